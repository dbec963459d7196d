#Requires -Version 5.1
<#
.SYNOPSIS
    The gallery package, installed the way users install it: published to a file-system
    repository, installed with Install-Module (PowerShellGet) and with Install-PSResource
    (PSResourceGet) into a clean module path, and the documentation's example script run unchanged
    against the emulator.

.DESCRIPTION
    A Pester 5 file. `cargo xtask test` runs it where a PowerShell with Pester 5 is found (and CI
    runs it against the package that holds all six runtimes), with
        $env:MSCOMMERCE_PACKAGE    the .nupkg that `cargo xtask pack` wrote
        $env:MSCOMMERCE_EMULATOR   the emulator binary

    Every installer and script runs in a child PowerShell of the same edition (under `dotnet pwsh`,
    the same dotnet running the tool's pwsh.dll), with its own module path (the parent's
    PSModulePath is not passed on, nor MSCOMMERCE_NATIVE_DIR, so the library that loads is the
    packaged one) and its own token cache, in the sandbox folder as its working directory. On Linux
    and macOS the child's HOME and XDG folders are a new folder for each installer (the example
    script runs in its installer's): the CurrentUser module path, the registered repositories and
    the installers' caches all start empty and nothing of the user's is touched. Windows keeps the
    CurrentUser module path in Documents, which no environment variable moves: there the test
    installs into the real CurrentUser scope, removes what it installed afterwards, and does not run
    where an MSCommerce is already installed (a skip, or a failure under CI).
#>

BeforeAll {
    $ErrorActionPreference = 'Stop'
    Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force

    $package = $env:MSCOMMERCE_PACKAGE
    if (-not $package -or -not (Test-Path -LiteralPath $package -PathType Leaf)) {
        throw "The package was not found ('$package'): run the tests through build.ps1 or cargo xtask, or set MSCOMMERCE_PACKAGE to the .nupkg of ``cargo xtask pack``."
    }
    $inCI = [bool] $env:CI
    $onWindows = $PSVersionTable.PSEdition -eq 'Desktop' -or $IsWindows
    $isolated = -not $onWindows
    $sandbox = Join-Path ([IO.Path]::GetTempPath()) ('mscommerce-install-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Path $sandbox
    $gallery = Join-Path $sandbox 'gallery'
    $null = New-Item -ItemType Directory -Path $gallery

    # The package's own manifest and file list. Expand-Archive of Windows PowerShell 5.1 takes
    # only .zip names.
    $zip = Join-Path $sandbox 'package.zip'
    Copy-Item -LiteralPath $package -Destination $zip
    $extracted = Join-Path $sandbox 'package'
    Expand-Archive -LiteralPath $zip -DestinationPath $extracted
    $manifestPath = Join-Path $extracted 'MSCommerce.psd1'
    $manifest = Import-PowerShellDataFile -LiteralPath $manifestPath
    $version = $manifest.ModuleVersion

    # The files an install must leave in the module folder: the package's, less its NuGet parts.
    function Get-ModuleFile([string] $Folder) {
        Get-ChildItem -LiteralPath $Folder -Recurse -File |
            ForEach-Object { $_.FullName.Substring($Folder.TrimEnd('\', '/').Length + 1).Replace('\', '/') } |
            Where-Object { $_ -notmatch '^(\[Content_Types\]\.xml|_rels/.*|package/.*|[^/]+\.nuspec|[^/]+\.nupkg|PSGetModuleInfo\.xml)$' } |
            Sort-Object
    }
    $packagedFiles = @(Get-ModuleFile $extracted)

    # The example script of Microsoft's "Use AllowSelfServicePurchase for the MSCommerce
    # PowerShell module", exactly as published.
    $example = Join-Path $sandbox 'Disable-PowerAutomate.ps1'
    Set-Content -LiteralPath $example -Encoding UTF8 -Value @'
Import-Module -Name MSCommerce
Connect-MSCommerce #sign-in with your global or billing administrator account when prompted
$product = Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase | where {$_.ProductName -match 'Power Automate per user'}
Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId $product.ProductID -Value "Disabled"
'@
    # Power Automate per user.
    $productId = 'CFQ7TTC0LH3L'

    # What every child PowerShell gets ($null: not set).
    $childEnvironment = @{
        PSModulePath                = $null
        MSCOMMERCE_NATIVE_DIR       = $null
        MSCOMMERCE_TOKEN_CACHE      = 'file'
        MSCOMMERCE_TOKEN_CACHE_DIR  = Join-Path $sandbox 'token-cache'
        POWERSHELL_TELEMETRY_OPTOUT = '1'
        POWERSHELL_UPDATECHECK      = 'Off'
        # Plain text: what a child prints goes into failure messages and the NUnit XML report,
        # which cannot hold the escape character of ANSI colours.
        NO_COLOR                    = '1'
    }

    # Linux and macOS: a new HOME and XDG folders for the child runs named $Name, so each
    # installer starts from an empty CurrentUser module path and repository list. The folders are
    # made here: .NET gives an empty path for a special folder that does not exist, and the
    # installers would then write their settings relative to the working directory.
    function Get-ChildHome([string] $Name) {
        $folder = Join-Path $sandbox "home-$Name"
        $variables = @{
            HOME            = $folder
            XDG_DATA_HOME   = Join-Path $folder '.local/share'
            XDG_CONFIG_HOME = Join-Path $folder '.config'
            XDG_CACHE_HOME  = Join-Path $folder '.cache'
        }
        foreach ($path in $variables.Values) { $null = New-Item -ItemType Directory -Path $path -Force }
        [pscustomobject]@{ Path = $folder; Environment = $variables }
    }

    # This PowerShell again, of the same edition and version: Windows PowerShell; pwsh; or, for
    # the PowerShell .NET tool (`dotnet pwsh`, where this process is dotnet), the same dotnet with
    # the tool's pwsh.dll (the tool's own pwsh launcher may not find the runtime, nor be executable).
    function Get-ChildPowerShell {
        if ($PSVersionTable.PSEdition -eq 'Desktop') { return , @(Join-Path $PSHOME 'powershell.exe') }
        $process = [Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
        $library = Join-Path $PSHOME 'pwsh.dll'
        if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet' -and (Test-Path -LiteralPath $library -PathType Leaf)) {
            return , @($process, $library)
        }
        foreach ($name in 'pwsh.exe', 'pwsh') {
            $path = Join-Path $PSHOME $name
            if (Test-Path -LiteralPath $path -PathType Leaf) { return , @($path) }
        }
        throw "No PowerShell to start found in '$PSHOME' (this process is '$process')."
    }

    # Runs $Script in a child PowerShell, in the sandbox as its working directory, and returns the
    # JSON object it printed last; throws with everything it printed when it fails.
    function Invoke-Child {
        param(
            [Parameter(Mandatory)] [string] $Name,
            [Parameter(Mandatory)] [string] $Script,
            [string[]] $Arguments = @(),
            [hashtable] $Environment = @{},
            # Linux and macOS: the child's HOME (Get-ChildHome).
            $ChildHome
        )
        $file = Join-Path $sandbox "$Name.ps1"
        Set-Content -LiteralPath $file -Value $Script -Encoding UTF8
        $variables = @{} + $childEnvironment
        if ($isolated -and $ChildHome) {
            foreach ($key in $ChildHome.Environment.Keys) { $variables[$key] = $ChildHome.Environment[$key] }
        }
        foreach ($key in $Environment.Keys) { $variables[$key] = $Environment[$key] }
        $saved = @{}
        foreach ($key in $variables.Keys) {
            $saved[$key] = [Environment]::GetEnvironmentVariable($key)
            [Environment]::SetEnvironmentVariable($key, $variables[$key])
        }
        $command = Get-ChildPowerShell
        $prefix = @($command | Select-Object -Skip 1)
        $options = @('-NoLogo', '-NoProfile', '-NonInteractive')
        if ($onWindows) { $options += '-ExecutionPolicy', 'Bypass' }
        Push-Location -LiteralPath $sandbox
        try {
            # Native stderr must not stop this function; the exit code decides.
            $ErrorActionPreference = 'Continue'
            $lines = @(& $command[0] @prefix @options -File $file @Arguments 2>&1 | ForEach-Object { "$_" -replace '\x1b\[[0-9;?]*[ -/]*[@-~]', '' })
            $code = $LASTEXITCODE
        }
        finally {
            Pop-Location
            foreach ($key in $saved.Keys) { [Environment]::SetEnvironmentVariable($key, $saved[$key]) }
        }
        $text = $lines -join [Environment]::NewLine
        if ($code -ne 0) { throw "$Name failed (exit code $code):$([Environment]::NewLine)$text" }
        $json = $lines | Where-Object { $_.StartsWith('{') } | Select-Object -Last 1
        if (-not $json) { throw "$Name printed no result:$([Environment]::NewLine)$text" }
        $json | ConvertFrom-Json
    }

    # The service's own view of the product, read over HTTP, not through the module.
    function Get-ServiceValue([string] $ServiceUri, [string] $Token) {
        $uri = "$ServiceUri/v1.0/policies/AllowSelfServicePurchase/products/$productId"
        (Invoke-RestMethod -Uri $uri -Headers @{ Authorization = "Bearer $Token" }).policyValue
    }

    # A prerequisite this PowerShell lacks: a failure under CI, else a skip.
    function Skip-OrFail([string] $Why) {
        if ($inCI) { throw $Why }
        Set-ItResult -Skipped -Because $Why
    }

    $publishScript = @'
param([string] $Gallery, [string] $Package)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$how = 'copied into the folder'
$psResourceGet = Get-Module -ListAvailable -Name Microsoft.PowerShell.PSResourceGet | Sort-Object Version -Descending | Select-Object -First 1
if ($psResourceGet) {
    Import-Module $psResourceGet
}
if ((Get-Command Publish-PSResource -ErrorAction SilentlyContinue) -and (Get-Command Publish-PSResource).Parameters.ContainsKey('NupkgPath')) {
    $repository = 'MSCommercePublish' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    Register-PSResourceRepository -Name $repository -Uri $Gallery -Trusted
    try {
        Publish-PSResource -NupkgPath $Package -Repository $repository
        $how = 'Publish-PSResource -NupkgPath'
    }
    finally { Unregister-PSResourceRepository -Name $repository }
}
else {
    # PSResourceGet before 1.1 cannot publish a built package; a file-system repository is a
    # folder of .nupkg files, so publishing to it is copying the package there.
    Copy-Item -LiteralPath $Package -Destination $Gallery
}
[pscustomobject]@{ How = $how; Files = @(Get-ChildItem -LiteralPath $Gallery -Name) } | ConvertTo-Json -Compress
'@

    $manifestScript = @'
param([string] $Path)
$ErrorActionPreference = 'Stop'
$module = Test-ModuleManifest -Path $Path
[pscustomobject]@{
    Version                = "$($module.Version)"
    Guid                   = "$($module.Guid)"
    Editions               = @($module.CompatiblePSEditions)
    PowerShellVersion      = "$($module.PowerShellVersion)"
    DotNetFrameworkVersion = "$($module.DotNetFrameworkVersion)"
} | ConvertTo-Json -Compress
'@

    $installScript = @'
param([string] $Installer, [string] $Gallery)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
function Get-Installed {
    @(Get-Module -ListAvailable -Name MSCommerce -Refresh | ForEach-Object { [pscustomobject]@{ ModuleBase = $_.ModuleBase; Version = "$($_.Version)" } })
}
$before = @(Get-Installed | ForEach-Object { $_.ModuleBase })
$result = [pscustomobject]@{ Missing = ''; Before = $before; Installed = @() }
if ($before.Count) { return ($result | ConvertTo-Json -Compress -Depth 4) }
$repository = 'MSCommerceLocal' + [guid]::NewGuid().ToString('N').Substring(0, 8)
if ($Installer -eq 'PowerShellGet') {
    $module = Get-Module -ListAvailable -Name PowerShellGet | Where-Object { $_.Version -ge [version]'2.0' } | Sort-Object Version -Descending | Select-Object -First 1
    if (-not $module) { $result.Missing = 'PowerShellGet 2.0 or later'; return ($result | ConvertTo-Json -Compress -Depth 4) }
    Import-Module $module
    Register-PSRepository -Name $repository -SourceLocation $Gallery -PublishLocation $Gallery -InstallationPolicy Trusted
    try {
        Install-Module MSCommerce -Repository $repository -Scope CurrentUser
    }
    finally { Unregister-PSRepository -Name $repository }
}
else {
    $module = Get-Module -ListAvailable -Name Microsoft.PowerShell.PSResourceGet | Sort-Object Version -Descending | Select-Object -First 1
    if (-not $module) { $result.Missing = 'Microsoft.PowerShell.PSResourceGet'; return ($result | ConvertTo-Json -Compress -Depth 4) }
    Import-Module $module
    Register-PSResourceRepository -Name $repository -Uri $Gallery -Trusted
    try {
        Install-PSResource MSCommerce -Repository $repository -Scope CurrentUser
    }
    finally { Unregister-PSResourceRepository -Name $repository }
}
$result.Installed = @(Get-Installed)
$result | ConvertTo-Json -Compress -Depth 4
'@

    $exampleScript = @'
param([string] $Example, [string] $ProductId)
$ErrorActionPreference = 'Stop'
# The documentation's plain Connect-MSCommerce signs in interactively; here the emulator's token
# is its default, so the script itself runs as written.
$PSDefaultParameterValues['Connect-MSCommerce:AccessToken'] = $env:MSCOMMERCE_TEST_TOKEN
& $Example
$module = Get-Module -Name MSCommerce
[pscustomobject]@{
    ModuleBase = $module.ModuleBase
    Version    = "$($module.Version)"
    Commands   = @(Get-Command -Module MSCommerce | ForEach-Object { $_.Name })
} | ConvertTo-Json -Compress
'@
}

AfterAll {
    Remove-Item -LiteralPath $sandbox -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'The MSCommerce gallery package' {
    It 'has a manifest that Test-ModuleManifest accepts: the original GUID, a newer version, both editions' {
        $module = Invoke-Child -Name 'manifest' -Script $manifestScript -Arguments $manifestPath -ChildHome (Get-ChildHome 'manifest')
        $module.Guid | Should -Be '0141756d-17fc-4ea8-9169-d034b210847e'
        [version] $module.Version | Should -BeGreaterThan ([version] '3.0.1')
        $module.Version | Should -Be $version
        @($module.Editions) | Should -Be @('Desktop', 'Core')
        $module.PowerShellVersion | Should -Be '5.1'
        $module.DotNetFrameworkVersion | Should -Be '4.7.2'
    }

    It 'publishes to a file-system repository' {
        $published = Invoke-Child -Name 'publish' -Script $publishScript -Arguments $gallery, $package -ChildHome (Get-ChildHome 'publish')
        Write-Host "published: $($published.How)"
        @($published.Files) | Should -Contain "MSCommerce.$version.nupkg"
    }

    It 'installs with <Command> into a clean module path, and the documentation example runs unchanged' -ForEach @(
        @{ Installer = 'PowerShellGet'; Command = 'Install-Module MSCommerce -Repository <local>' }
        @{ Installer = 'PSResourceGet'; Command = 'Install-PSResource MSCommerce -Repository <local>' }
    ) {
        if (-not (Test-Path -LiteralPath (Join-Path $gallery "MSCommerce.$version.nupkg"))) {
            throw 'The package was not published: see the test before this one.'
        }
        $emulator = Start-TestEmulator
        $new = @()
        try {
            $token = New-TestToken -Emulator $emulator
            Get-ServiceValue $emulator.ServiceUri $token | Should -Be 'Enabled'

            # Each installer has a HOME of its own: the other's install is not in its module path.
            $userHome = Get-ChildHome $Installer
            $install = Invoke-Child -Name "install-$Installer" -Script $installScript -Arguments $Installer, $gallery -ChildHome $userHome
            if ($install.Missing) {
                Skip-OrFail "$($install.Missing) is not installed for this PowerShell"
                return
            }
            if (@($install.Before).Count) {
                $why = "an MSCommerce is already installed where this PowerShell looks ($(@($install.Before) -join ', ')): the install would not start from a clean module path"
                if ($isolated) { throw $why }
                Skip-OrFail $why
                return
            }
            $new = @($install.Installed)
            $new.Count | Should -Be 1 -Because 'the installer installed one MSCommerce'
            $new[0].Version | Should -Be $version
            if ($isolated) { $new[0].ModuleBase | Should -BeLike "$($userHome.Path)*" }
            Get-ModuleFile $new[0].ModuleBase | Should -Be $packagedFiles -Because 'the install holds the packaged files, no more, no less'

            $run = Invoke-Child -Name "example-$Installer" -Script $exampleScript -Arguments $example, $productId -ChildHome $userHome -Environment @{
                MSCOMMERCE_SERVICE_URI = $emulator.ServiceUri
                MSCOMMERCE_TEST_TOKEN  = $token
            }
            $run.ModuleBase | Should -Be $new[0].ModuleBase -Because 'Import-Module -Name MSCommerce found the installed module'
            $run.Version | Should -Be $version
            foreach ($cmdlet in $manifest.CmdletsToExport) {
                @($run.Commands) | Should -Contain $cmdlet
            }
            Get-ServiceValue $emulator.ServiceUri $token | Should -Be 'Disabled' -Because 'the example disabled Power Automate per user'
        }
        finally {
            Stop-TestEmulator $emulator
            # Windows: the install went to the real CurrentUser scope; take it away again.
            if (-not $isolated) {
                foreach ($installed in $new) {
                    Remove-Item -LiteralPath $installed.ModuleBase -Recurse -Force -ErrorAction SilentlyContinue
                    $parent = Split-Path -Parent $installed.ModuleBase
                    if ((Test-Path -LiteralPath $parent) -and -not (Get-ChildItem -LiteralPath $parent -Force)) {
                        Remove-Item -LiteralPath $parent -Force
                    }
                }
            }
        }
    }
}
