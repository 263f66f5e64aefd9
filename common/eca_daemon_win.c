/* SPDX-License-Identifier: MIT */
/* Windows half of eca_daemon: console control events and an event object the wait sleeps on. */
#include <winsock2.h>
#include <windows.h>

#include "eca_clock.h"
#include "eca_daemon.h"
#include "eca_daemon_os.h"
#include "eca_win.h"

/* Auto-reset wake-up event: the Windows form of the POSIX self-pipe. */
static HANDLE wake;

/* Runs on a thread the system creates: Ctrl+C, Ctrl+Break, console close, log-off, shutdown. */
static BOOL WINAPI
on_console(DWORD type)
{
    (void)type;
    eca_daemon_win_notify(ECA_DAEMON_STOP);
    return TRUE;
}

void
eca_daemon_win_notify(unsigned bits)
{
    eca_daemon_request(bits);
    if (wake != NULL)
        SetEvent(wake);
}

enum eca_rc
eca_daemon_init(struct eca_err *err)
{
    char msg[256];

    if (wake == NULL && (wake = CreateEventW(NULL, FALSE, FALSE, NULL)) == NULL) {
        eca_win_strerror(GetLastError(), msg, sizeof msg);
        return eca_err_set(err, ECA_EIO, "daemon: CreateEvent: %s", msg);
    }
    if (!SetConsoleCtrlHandler(on_console, TRUE)) {
        eca_win_strerror(GetLastError(), msg, sizeof msg);
        return eca_err_set(err, ECA_EIO, "daemon: SetConsoleCtrlHandler: %s", msg);
    }
    return ECA_OK;
}

void
eca_daemon_fini(void)
{
    SetConsoleCtrlHandler(on_console, FALSE);
    if (wake != NULL)
        CloseHandle(wake);
    wake = NULL;
    eca_daemon_clear();
}

/* An event that fires when the socket extra_fd can accept or read; NULL if none. */
static WSAEVENT
socket_event(int extra_fd)
{
    WSAEVENT ev;

    if (extra_fd < 0 || (ev = WSACreateEvent()) == WSA_INVALID_EVENT)
        return NULL;
    if (WSAEventSelect((SOCKET)extra_fd, ev, FD_ACCEPT | FD_READ | FD_CLOSE) != 0) {
        WSACloseEvent(ev);
        return NULL;
    }
    return ev;
}

static void
socket_event_free(int extra_fd, WSAEVENT ev)
{
    if (ev == NULL)
        return;
    /* Detach, or the socket stays non-blocking with events routed nowhere. */
    WSAEventSelect((SOCKET)extra_fd, NULL, 0);
    WSACloseEvent(ev);
}

unsigned
eca_daemon_wait(time_t deadline, int extra_fd)
{
    WSAEVENT sev = socket_event(extra_fd);
    HANDLE hs[2] = {wake, sev};
    unsigned bits;
    DWORD n = sev != NULL ? 2 : 1, r;

    for (;;) {
        time_t now = eca_clock_now();
        long long ms = deadline > now ? ((long long)deadline - now) * 1000 : 0;

        if ((bits = eca_daemon_peek()) != 0 || ms <= 0)
            break;
        if (wake == NULL) { /* not initialised: nothing can wake us early */
            Sleep(ms > 0x7fffffff ? 0x7fffffff : (DWORD)ms);
            continue;
        }
        r = WaitForMultipleObjects(n, hs, FALSE, ms > 0x7ffffffe ? 0x7ffffffe : (DWORD)ms);
        if (r == WAIT_OBJECT_0 + 1) {
            bits = eca_daemon_peek() | ECA_DAEMON_FD_READY;
            break;
        }
    }
    socket_event_free(extra_fd, sev);
    return bits;
}
