#Requires -Version 5.1
<#
.SYNOPSIS
    Packs a laid-out module folder into its gallery package with PSResourceGet's own
    Publish-PSResource, published to a local file repository made for this one run.

.DESCRIPTION
    `cargo xtask pack` runs this, then checks the package (xtask/src/pack.rs). The repository is
    registered under a name of its own and unregistered afterwards. On Linux and macOS the xtask
    also points XDG_DATA_HOME, where PSResourceGet keeps its repository list, at a throwaway
    folder, so the user's list is never touched; Windows keeps that list under LocalAppData,
    which no variable moves, so there it is touched only for the length of the publish.
#>
param(
    # The module folder: out/MSCommerce/<version>.
    [Parameter(Mandatory)] [string] $ModuleDir,
    # An empty folder; the .nupkg lands in it.
    [Parameter(Mandatory)] [string] $Repository
)

$ErrorActionPreference = 'Stop'

# Compress-PSResource would do without a repository, but it came with PSResourceGet 1.1 and the
# PowerShell of a hosted runner may bring 1.0; Publish-PSResource is in every release.
if (-not (Get-Module -ListAvailable -Name Microsoft.PowerShell.PSResourceGet)) {
    throw "PSResourceGet (Microsoft.PowerShell.PSResourceGet, 1.0 or later) is not installed in this PowerShell $($PSVersionTable.PSVersion); it comes with PowerShell 7.4 and later (the pinned ``dotnet pwsh`` has 1.2.0)."
}
Import-Module -Name Microsoft.PowerShell.PSResourceGet -MinimumVersion 1.0.0

$name = 'MSCommerceXtaskPack-' + [guid]::NewGuid().ToString('N')
Register-PSResourceRepository -Name $name -Uri $Repository -Trusted
try {
    # No dependency check: it would look the RequiredModules up in this empty repository. The
    # gallery checks them when the package is published there.
    Publish-PSResource -Path $ModuleDir -Repository $name -SkipDependenciesCheck
}
finally {
    Unregister-PSResourceRepository -Name $name
}
