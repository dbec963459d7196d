# Starts and stops the emulator for PowerShell-level tests and the demo, and reads and resets the
# service's state over HTTP (not through the module under test), for the Pester files.
# No function here writes a token to the output or puts one in an error message.

function Get-SeededState {
    <#
    A folder holding the state a new emulator seeds (the database with its signing key), made once
    per emulator binary with its `token` command (which creates the state of a new folder) and
    kept in the temp folder, named after the binary's path, size and time.
    #>
    param([Parameter(Mandatory)] [string] $Path)
    $binary = Get-Item -LiteralPath $Path
    $identity = "$($binary.FullName)|$($binary.Length)|$($binary.LastWriteTimeUtc.Ticks)"
    $sha = [Security.Cryptography.SHA256]::Create()
    try { $hash = -join ($sha.ComputeHash([Text.Encoding]::UTF8.GetBytes($identity))[0..7] | ForEach-Object { $_.ToString('x2') }) }
    finally { $sha.Dispose() }
    $seeded = Join-Path ([IO.Path]::GetTempPath()) "mscommerce-pstest-seed-$hash"
    if (Test-Path -LiteralPath (Join-Path $seeded 'emulator.db')) { return $seeded }
    $partial = "$seeded-" + [guid]::NewGuid().ToString('N')
    $null = New-Item -ItemType Directory -Path $partial
    $null = & $Path token --tenant contoso.onmicrosoft.com --user admin@contoso.onmicrosoft.com --data $partial
    if ($LASTEXITCODE -ne 0) { throw "The emulator could not seed a state in '$partial' (exit code $LASTEXITCODE)." }
    try { [IO.Directory]::Move($partial, $seeded) }
    catch {
        # Another run seeded it first.
        Remove-Item -LiteralPath $partial -Recurse -Force -ErrorAction SilentlyContinue
        if (-not (Test-Path -LiteralPath (Join-Path $seeded 'emulator.db'))) { throw }
    }
    $seeded
}

function Start-TestEmulator {
    [CmdletBinding()]
    param(
        # The emulator binary; defaults to $env:MSCOMMERCE_EMULATOR (set by `cargo xtask test`).
        [string] $Path = $env:MSCOMMERCE_EMULATOR,
        # More `serve` flags (bench.ps1: --durability relaxed).
        [string[]] $ServeArguments = @()
    )
    if (-not $Path -or -not (Test-Path -LiteralPath $Path)) {
        throw "The emulator binary was not found ('$Path'): run the tests through build.ps1 or cargo xtask."
    }
    $data = Join-Path ([IO.Path]::GetTempPath()) ("mscommerce-pstest-" + [guid]::NewGuid())
    $null = New-Item -ItemType Directory -Path $data
    # A copy of a seeded state starts in milliseconds; seeding makes an RSA key, which takes
    # from half a second to several.
    Copy-Item -Path (Join-Path (Get-SeededState -Path $Path) '*') -Destination $data
    $info = [Diagnostics.ProcessStartInfo]::new($Path)
    # ProcessStartInfo.ArgumentList is not in Windows PowerShell 5.1's .NET Framework.
    $info.Arguments = ("serve --port 0 --data `"$data`" " + ($ServeArguments -join ' ')).TrimEnd()
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $process = [Diagnostics.Process]::Start($info)
    # Drain stderr so a chatty emulator never blocks on a full pipe.
    $null = $process.StandardError.ReadToEndAsync()
    $read = $process.StandardOutput.ReadLineAsync()
    if (-not $read.Wait([TimeSpan]::FromSeconds(60))) {
        $process.Kill()
        throw 'The emulator did not print its ready line within 60 seconds.'
    }
    $ready = $read.Result | ConvertFrom-Json
    [pscustomobject]@{
        Process    = $process
        Path       = $Path
        DataPath   = $data
        ServiceUri = $ready.serviceUri
        AdminUri   = "$($ready.serviceUri)/admin"
    }
}

function New-TestToken {
    <# A valid access token for a seeded user, from the emulator's `token` command (its last line). #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] $Emulator,
        [string] $User = 'admin@contoso.onmicrosoft.com',
        [string] $Tenant = 'contoso.onmicrosoft.com'
    )
    $lines = & $Emulator.Path token --tenant $Tenant --user $User --data $Emulator.DataPath
    if ($LASTEXITCODE -ne 0) { throw "The emulator's token command failed for $User (exit code $LASTEXITCODE)." }
    @($lines)[-1].Trim()
}

function Stop-TestEmulator {
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Emulator)
    if (-not $Emulator.Process.HasExited) {
        $Emulator.Process.Kill()
        $null = $Emulator.Process.WaitForExit(10000)
    }
    Remove-Item -LiteralPath $Emulator.DataPath -Recurse -Force -ErrorAction SilentlyContinue
}

function Get-TestModuleManifest {
    <# The manifest of the laid-out module under test: $env:MSCOMMERCE_MODULE_DIR/MSCommerce.psd1. #>
    [CmdletBinding()]
    [OutputType([string])]
    param()
    $manifest = if ($env:MSCOMMERCE_MODULE_DIR) { Join-Path $env:MSCOMMERCE_MODULE_DIR 'MSCommerce.psd1' }
    if (-not $manifest -or -not (Test-Path -LiteralPath $manifest -PathType Leaf)) {
        throw "No MSCommerce.psd1 in MSCOMMERCE_MODULE_DIR ('$env:MSCOMMERCE_MODULE_DIR'): run the tests through build.ps1 or cargo xtask, or set it to out/MSCommerce/<version>."
    }
    $manifest
}

function Invoke-TestService {
    <#
    One request to the emulator's licensing API as the service sees it (the parsed body), made with
    Invoke-RestMethod rather than the module under test. -Path starts after /v1.0.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Emulator,
        [Parameter(Mandatory)] [string] $Token,
        [Parameter(Mandatory)] [string] $Path,
        [ValidateSet('Get', 'Put')] [string] $Method = 'Get',
        # For PUT: the new policy value.
        [string] $Value
    )
    $request = @{
        Method  = $Method
        Uri     = "$($Emulator.ServiceUri)/v1.0$Path"
        Headers = @{ Authorization = "Bearer $Token"; 'x-ms-correlation-id' = [guid]::NewGuid().ToString() }
    }
    if ($Method -eq 'Put') {
        $request.Body = @{ policyValue = $Value } | ConvertTo-Json -Compress
        $request.ContentType = 'application/json'
    }
    Invoke-RestMethod @request
}

function Get-TestServiceValue {
    <# The policy value of one product or offer type, read from the service over HTTP. #>
    [CmdletBinding(DefaultParameterSetName = 'Product')]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] $Emulator,
        [Parameter(Mandatory)] [string] $Token,
        [Parameter(Mandatory, ParameterSetName = 'Product', Position = 0)] [string] $ProductId,
        [Parameter(Mandatory, ParameterSetName = 'OfferType')] [string] $OfferType,
        [string] $PolicyId = 'AllowSelfServicePurchase'
    )
    $path = if ($PSCmdlet.ParameterSetName -eq 'Product') { "/policies/$PolicyId/products/$ProductId" } else { "/policies/$PolicyId/offerTypes/$OfferType" }
    (Invoke-TestService -Emulator $Emulator -Token $Token -Path $path).policyValue
}

function Set-TestServiceValue {
    <# Sets one product or offer type over HTTP, without the module under test. #>
    [CmdletBinding(DefaultParameterSetName = 'Product')]
    param(
        [Parameter(Mandatory)] $Emulator,
        [Parameter(Mandatory)] [string] $Token,
        [Parameter(Mandatory, ParameterSetName = 'Product', Position = 0)] [string] $ProductId,
        [Parameter(Mandatory, ParameterSetName = 'OfferType')] [string] $OfferType,
        [Parameter(Mandatory)] [string] $Value,
        [string] $PolicyId = 'AllowSelfServicePurchase'
    )
    $path = if ($PSCmdlet.ParameterSetName -eq 'Product') { "/policies/$PolicyId/products/$ProductId" } else { "/policies/$PolicyId/offerTypes/$OfferType" }
    $null = Invoke-TestService -Emulator $Emulator -Token $Token -Path $path -Method Put -Value $Value
}

function Get-TestServiceItem {
    <# Every product (or, with -OfferType, every offer type) of the token's tenant, as the service lists them. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Emulator,
        [Parameter(Mandatory)] [string] $Token,
        [switch] $OfferType,
        [string] $PolicyId = 'AllowSelfServicePurchase'
    )
    $scope = if ($OfferType) { 'OfferType' } else { 'product' }
    @((Invoke-TestService -Emulator $Emulator -Token $Token -Path "/policies/$PolicyId/products?scope=$scope").items)
}

function Reset-TestTenant {
    <#
    Puts the token's tenant back as the seed has it: every product and offer type Enabled (only
    those that are not are written), and no fault knob on.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Emulator,
        [Parameter(Mandatory)] [string] $Token,
        [string] $PolicyId = 'AllowSelfServicePurchase'
    )
    Clear-TestFault -Emulator $Emulator
    foreach ($product in Get-TestServiceItem -Emulator $Emulator -Token $Token -PolicyId $PolicyId) {
        if ($product.policyValue -ne 'Enabled') {
            Set-TestServiceValue -Emulator $Emulator -Token $Token -PolicyId $PolicyId -ProductId $product.productId -Value Enabled
        }
    }
    foreach ($offer in Get-TestServiceItem -Emulator $Emulator -Token $Token -PolicyId $PolicyId -OfferType) {
        if ($offer.policyValue -ne 'Enabled') {
            Set-TestServiceValue -Emulator $Emulator -Token $Token -PolicyId $PolicyId -OfferType $offer.scopeId -Value Enabled
        }
    }
}

function Set-TestFault {
    <# Replaces the emulator's fault knobs (PUT /admin/faults) with -Faults, a hashtable as that endpoint takes it. #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Emulator, [Parameter(Mandatory)] [hashtable] $Faults)
    $null = Invoke-RestMethod -Method Put -Uri "$($Emulator.AdminUri)/faults" -ContentType 'application/json' -Body ($Faults | ConvertTo-Json -Depth 6 -Compress)
}

function Clear-TestFault {
    <# Turns every fault knob off. #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Emulator)
    $null = Invoke-RestMethod -Method Delete -Uri "$($Emulator.AdminUri)/faults"
}

function Get-TestRequestCount {
    <# How many requests have reached the licensing API since the emulator started. #>
    [CmdletBinding()]
    [OutputType([long])]
    param([Parameter(Mandatory)] $Emulator)
    [long] (Invoke-RestMethod -Uri "$($Emulator.AdminUri)/requests").total
}

function Add-TestProduct {
    <# Adds -Count generated products (CFQ7TTC0BULK0001, "Bulk product 0001", ...) to a tenant. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Emulator,
        [Parameter(Mandatory)] [int] $Count,
        [string] $Tenant = 'contoso.onmicrosoft.com'
    )
    Invoke-RestMethod -Method Post -Uri "$($Emulator.AdminUri)/tenants/$Tenant/products" -ContentType 'application/json' -Body (@{ count = $Count } | ConvertTo-Json -Compress)
}

function Get-WhatIfLine {
    <#
    .SYNOPSIS
        Runs a command with -WhatIf in it and returns the "What if:" lines it showed. PowerShell
        writes them to the host, not to a stream, so they are read back from a transcript.
    #>
    param([Parameter(Mandatory)] [scriptblock] $Command)
    $log = [IO.Path]::Combine([IO.Path]::GetTempPath(), "whatif-$([guid]::NewGuid()).txt")
    $null = Start-Transcript -LiteralPath $log
    try { $null = & $Command }
    finally { $null = Stop-Transcript }
    try { @(Get-Content -LiteralPath $log | Where-Object { $_ -like 'What if:*' }) }
    finally { Remove-Item -LiteralPath $log -ErrorAction SilentlyContinue }
}

Export-ModuleMember -Function Get-WhatIfLine, Start-TestEmulator, Stop-TestEmulator, New-TestToken, Get-TestModuleManifest,
    Invoke-TestService, Get-TestServiceValue, Set-TestServiceValue, Get-TestServiceItem, Reset-TestTenant,
    Set-TestFault, Clear-TestFault, Get-TestRequestCount, Add-TestProduct
