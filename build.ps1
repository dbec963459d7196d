#Requires -Version 5.1
<#
.SYNOPSIS
    Builds, tests and demonstrates the MSCommerce module.

.DESCRIPTION
    A thin front for `cargo xtask <verb>`, which holds the build logic so that the same build also
    runs where PowerShell cannot be installed. Run from PowerShell, the PowerShell-level tests and
    the demo use the PowerShell running this script.

    build   builds the core, the emulator and the shim; lays out out/MSCommerce/<version>/
    test    builds, then runs every test suite
    demo    builds, starts the emulator, shows the policy and the products, stops the emulator
    header  regenerates rust-core/mscommerce.h
    clean   removes out/

.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'demo', 'header', 'clean')]
    [string] $Verb = 'build'
)

$ErrorActionPreference = 'Stop'

# Under `dotnet pwsh` the process is dotnet itself; xtask then finds the restored tool on its own.
$self = (Get-Process -Id $PID).Path
if ([IO.Path]::GetFileNameWithoutExtension($self) -ne 'dotnet') {
    $env:MSCOMMERCE_PWSH = $self
}

Push-Location -LiteralPath $PSScriptRoot
try {
    & cargo xtask $Verb
    $code = $LASTEXITCODE
}
finally {
    Pop-Location
}
exit $code
