#Requires -Version 5.1
<#
.SYNOPSIS
    Builds, tests and demonstrates the MSCommerce module.

.DESCRIPTION
    A thin front for `cargo xtask <verb>`, which holds the build logic. Run from PowerShell, the
    PowerShell-level tests, the demo and the packing (Publish-PSResource) use the PowerShell
    running this script.

    build   builds the core, the emulator and the shim; lays out out/MSCommerce/<version>/
    test    builds, then runs every test suite
    demo    builds, starts the emulator, shows the policy and the products, stops the emulator
    pack    builds, then writes (Publish-PSResource, to a local file repository of its own) and
            checks the gallery package out/MSCommerce.<version>.nupkg
            (-NoBuild: packs out/MSCommerce/<version>/ as it is, which CI signs first; -AllRids:
            fails unless all six runtimes are in it). Native libraries built on other machines
            are laid out too from $env:MSCOMMERCE_RUNTIMES_DIR/<rid>/<library>.
    bench   runs the benchmarks (cargo xtask bench)
    header  regenerates rust-core/mscommerce.h
    clean   removes out/

.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 test

.EXAMPLE
    ./build.ps1 pack -NoBuild -AllRids
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'demo', 'pack', 'bench', 'header', 'clean')]
    [string] $Verb = 'build',

    # pack: pack the laid-out module folder as it is (cargo xtask pack --no-build).
    [switch] $NoBuild,

    # pack: fail unless the package holds all six runtimes (cargo xtask pack --all-rids).
    [switch] $AllRids
)

$ErrorActionPreference = 'Stop'

# Under `dotnet pwsh` the process is dotnet itself; xtask then finds the restored tool on its own.
$self = (Get-Process -Id $PID).Path
if ([IO.Path]::GetFileNameWithoutExtension($self) -ne 'dotnet') {
    $env:MSCOMMERCE_PWSH = $self
}

Push-Location -LiteralPath $PSScriptRoot
try {
    $options = @()
    if ($NoBuild) { $options += '--no-build' }
    if ($AllRids) { $options += '--all-rids' }
    & cargo xtask $Verb @options
    $code = $LASTEXITCODE
}
finally {
    Pop-Location
}
exit $code
