# SPDX-License-Identifier: MIT
# Stop and remove both ECA services and their Event Log sources. Certificates, keys, state and
# configuration under %ProgramData%\ECA stay (delete them by hand if wanted). Run as Administrator.
# NOT executed in CI (no PowerShell there). See docs/WINDOWS.md.
param(
    [string]$BinDir   = "$env:ProgramFiles\ECA",
    [string]$AcmeName = "Lumia.CertificateManagement.ACME",
    [string]$EstName  = "Lumia.CertificateManagement.EST"
)
$ErrorActionPreference = "Stop"
foreach ($a in @(@{Agent="eca-acme"; Name=$AcmeName}, @{Agent="eca-est"; Name=$EstName})) {
    if (Get-Service -Name $a.Name -ErrorAction SilentlyContinue) {
        & (Join-Path $BinDir "$($a.Agent).exe") service uninstall --name $a.Name
        if ($LASTEXITCODE -ne 0) { throw "$($a.Agent) service uninstall failed ($LASTEXITCODE)" }
    }
}
