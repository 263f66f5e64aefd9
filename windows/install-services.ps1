# SPDX-License-Identifier: MIT
# Install eca-acme and eca-est as Windows services with their directories under
# %ProgramData%\ECA and ACLs for SYSTEM and Administrators only. Run as Administrator.
# NOT executed in CI (no PowerShell there): review before first use. See docs/WINDOWS.md.
param(
    [string]$BinDir   = "$env:ProgramFiles\ECA",
    [string]$AcmeName = "Lumia.CertificateManagement.ACME",
    [string]$EstName  = "Lumia.CertificateManagement.EST"
)
$ErrorActionPreference = "Stop"
$root = Join-Path $env:ProgramData "ECA"

foreach ($a in @(@{Agent="eca-acme"; Name=$AcmeName}, @{Agent="eca-est"; Name=$EstName})) {
    $dir = Join-Path $root $a.Agent
    New-Item -ItemType Directory -Force -Path (Join-Path $dir "state"), (Join-Path $dir "certs") | Out-Null
    # Protected DACL: SYSTEM and Administrators full control, nobody else (keys live here).
    icacls $dir /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" | Out-Null
    $conf = Join-Path $dir "$($a.Agent).conf"
    if (-not (Test-Path $conf)) { Write-Warning "$conf is missing: write it before starting $($a.Name)" }
    & (Join-Path $BinDir "$($a.Agent).exe") service install --name $a.Name --config $conf
    if ($LASTEXITCODE -ne 0) { throw "$($a.Agent) service install failed ($LASTEXITCODE)" }
}
Write-Host "Installed. Start with: Start-Service $AcmeName, $EstName"
