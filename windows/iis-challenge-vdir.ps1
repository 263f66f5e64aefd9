# SPDX-License-Identifier: MIT
# Create the IIS virtual directory /.well-known/acme-challenge on a site, pointing at the folder
# eca-acme writes tokens (and its web.config) into, readable by IIS and written only by SYSTEM.
# Run as Administrator. NOT executed in CI (no PowerShell there). See docs/WINDOWS.md.
param(
    [string]$Site    = "Default Web Site",
    [string]$Webroot = "$env:ProgramData\ECA\eca-acme\webroot"
)
$ErrorActionPreference = "Stop"
Import-Module WebAdministration
$challenge = Join-Path $Webroot ".well-known\acme-challenge"
New-Item -ItemType Directory -Force -Path $challenge | Out-Null
# SYSTEM (the agent) writes; IIS worker processes (IIS_IUSRS) and anonymous (IUSR) only read.
icacls $Webroot /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" `
    "IIS_IUSRS:(OI)(CI)RX" "IUSR:(OI)(CI)RX" | Out-Null
# IIS cannot nest a virtual directory under a missing path segment: create /.well-known first.
if (-not (Get-WebVirtualDirectory -Site $Site -Name ".well-known")) {
    New-WebVirtualDirectory -Site $Site -Name ".well-known" -PhysicalPath (Join-Path $Webroot ".well-known") | Out-Null
}
if (-not (Get-WebVirtualDirectory -Site $Site -Application "/" -Name ".well-known/acme-challenge")) {
    New-WebVirtualDirectory -Site $Site -Name ".well-known/acme-challenge" -PhysicalPath $challenge | Out-Null
}
# Anonymous access on the challenge path only (RFC 8555 8.3: the CA fetches it unauthenticated).
Set-WebConfigurationProperty -PSPath "IIS:\" -Location "$Site/.well-known/acme-challenge" `
    -Filter "system.webServer/security/authentication/anonymousAuthentication" -Name enabled -Value $true
Write-Host "Set webroot = `"$($Webroot -replace '\\','\\')`"; in eca-acme.conf."
