#Requires -Version 5.1
<#
.SYNOPSIS
    The PowerShell-level benchmarks of `cargo xtask bench` (build.ps1 bench): the module as admins
    use it, beside what they use today. Prints one JSON document on the last line of stdout.

.DESCRIPTION
    import  `Import-Module MSCommerce` timed inside fresh PowerShell processes (the same
            PowerShell as this one, -NoProfile) as their first command, median of -ImportRuns,
            and the working set and private memory the import added in that process; then the
            breakdown: an empty manifest module, MSCommerce.dll alone, the manifest without and
            with its format file, each by path.
    call    one `Get-MSCommerceProductPolicies` against the emulator vs a raw `Invoke-RestMethod`
            of the same request building the same objects ([pscustomobject]s with the properties
            the original outputs), interleaved in this session, medians: the seeded tenant's 17
            products, then (callLarge) 1,017 once the bulk's products are added.
    memory  the peak working set of a fresh PowerShell process (the same PowerShell as this one)
            that imports the module and disables -MemoryBulk products (each size its own process
            and its own added products) in one bulk update, no latency: before and after the
            update, and what the update added.
    bulk    disabling -Bulk products of one tenant with the emulator adding -LatencyMs to every
            request: the module's bulk update (an array of ids, the default -ThrottleLimit) vs a
            sequential `Invoke-RestMethod` loop (what the original does, one request after the
            other) vs the module called once per product in a foreach. Every run starts from all
            products Enabled (set back with an untimed bulk call).

    It starts its own emulator ($env:MSCOMMERCE_EMULATOR, or -Emulator). Windows PowerShell 5.1
    and PowerShell 7 both run it.
#>
[CmdletBinding()]
param(
    # The manifest of the laid-out module (out/MSCommerce/<version>/MSCommerce.psd1).
    [Parameter(Mandatory)]
    [string] $ModulePath,

    # The emulator binary.
    [string] $Emulator = $env:MSCOMMERCE_EMULATOR,

    [int] $ImportRuns = 15,
    [int] $Calls = 200,
    [int] $Bulk = 1000,
    [int] $LatencyMs = 5,
    # The sizes of the memory benchmark's bulk updates.
    [int[]] $MemoryBulk = @(1000, 10000),
    # Few products: the bulk command against the loop at each of these sizes.
    [int[]] $SmallBulk = @(1, 5, 17),
    [int] $SmallRuns = 7
)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../../tests/powershell/Emulator.psm1') -Force

$policyId = 'AllowSelfServicePurchase'
$tenant = 'contoso.onmicrosoft.com'
$invariant = [Globalization.CultureInfo]::InvariantCulture

function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    $count = $sorted.Count
    if ($count -eq 0) { return [double]::NaN }
    if ($count % 2 -eq 1) { return $sorted[($count - 1) / 2] }
    return ($sorted[$count / 2 - 1] + $sorted[$count / 2]) / 2
}

function Write-Note([string] $Text) {
    [Console]::Error.WriteLine('bench.ps1: ' + $Text)
}

# --- import ---------------------------------------------------------------------------------
# The same PowerShell as this one; under `dotnet pwsh` this process is dotnet itself.
$self = [Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
$prefix = @()
if ([IO.Path]::GetFileNameWithoutExtension($self) -eq 'dotnet') { $prefix = @('pwsh') }

$manifest = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$moduleDir = Split-Path $manifest -Parent
# out/MSCommerce/<version>/MSCommerce.psd1: out/ on PSModulePath makes `Import-Module MSCommerce` find it.
$modulesRoot = Split-Path (Split-Path $moduleDir -Parent) -Parent
# The import is the child's first command, as a user's would be: a cmdlet before it (Get-Process,
# say) would load PowerShell's module machinery and Microsoft.PowerShell.Management first and
# leave the import only part of its cost. The .NET API reads the process's memory instead.
$child = @'
$clock = [Diagnostics.Stopwatch]::StartNew()
$self = [Diagnostics.Process]::GetCurrentProcess()
$ws = $self.WorkingSet64
$privateBytes = $self.PrivateMemorySize64
$clock.Restart()
Import-Module $env:MSCOMMERCE_BENCH_IMPORT 6>$null
$ms = $clock.Elapsed.TotalMilliseconds
$self.Refresh()
$module = @(Get-Module | Where-Object { $_.Name -eq 'MSCommerce' -or $_.Name -eq 'Empty' })
'BENCH ' + $ms.ToString([Globalization.CultureInfo]::InvariantCulture) + ' ' + ($self.WorkingSet64 - $ws) + ' ' + ($self.PrivateMemorySize64 - $privateBytes) + ' ' + $module[0].Path
'@
$encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($child))

# The breakdown: what PowerShell itself costs to import any module, then the module a piece at a
# time. The copies live in a folder of this run.
$scratch = Join-Path ([IO.Path]::GetTempPath()) ('mscommerce-bench-' + [guid]::NewGuid().ToString('n'))
$emptyDir = Join-Path $scratch 'Empty'
$null = New-Item -ItemType Directory -Path $emptyDir
Set-Content -LiteralPath (Join-Path $emptyDir 'Empty.psd1') -Value "@{ ModuleVersion = '1.0.0'; GUID = '$([guid]::NewGuid())'; FunctionsToExport = @(); CmdletsToExport = @() }"
$noFormat = Join-Path $scratch 'noformat/MSCommerce'
$null = New-Item -ItemType Directory -Path $noFormat
Copy-Item -Path (Join-Path $moduleDir '*') -Destination $noFormat -Recurse
$noFormatManifest = Join-Path $noFormat 'MSCommerce.psd1'
(Get-Content -LiteralPath $noFormatManifest) | Where-Object { $_ -notmatch '^\s*FormatsToProcess\s*=' } | Set-Content -LiteralPath $noFormatManifest

function Measure-Import([string] $Target, [string] $Expected, [int] $Runs) {
    $times = New-Object 'System.Collections.Generic.List[double]'
    $workingSet = New-Object 'System.Collections.Generic.List[double]'
    $private = New-Object 'System.Collections.Generic.List[double]'
    $env:MSCOMMERCE_BENCH_IMPORT = $Target
    # The first run pays for a cold file cache; it is left out.
    for ($run = 0; $run -le $Runs; $run++) {
        $lines = & $self @prefix -NoLogo -NoProfile -NonInteractive -EncodedCommand $encoded
        if ($LASTEXITCODE -ne 0) { throw "The import child failed (exit code $LASTEXITCODE): $($lines -join ' ')" }
        $line = @($lines | Where-Object { "$_".StartsWith('BENCH ') })[-1]
        $fields = "$line" -split ' ', 5
        if ($fields.Count -lt 5 -or -not $fields[4].StartsWith($Expected)) {
            throw "Importing $Target imported another module or printed no figures: $line"
        }
        if ($run -gt 0) {
            $times.Add([double]::Parse($fields[1], $invariant))
            $workingSet.Add([double]$fields[2])
            $private.Add([double]$fields[3])
        }
    }
    [ordered]@{
        runs         = $Runs
        medianMs     = Get-Median $times.ToArray()
        workingSetMb = (Get-Median $workingSet.ToArray()) / 1048576
        privateMb    = (Get-Median $private.ToArray()) / 1048576
        samplesMs    = @($times | ForEach-Object { [math]::Round($_, 2) })
    }
}

$savedModulePath = $env:PSModulePath
$env:PSModulePath = $modulesRoot + [IO.Path]::PathSeparator + $savedModulePath
try {
    Write-Note "import: $ImportRuns fresh processes of $self"
    $import = Measure-Import -Target 'MSCommerce' -Expected $moduleDir -Runs $ImportRuns
    $breakdownRuns = [math]::Max(5, [int][math]::Ceiling($ImportRuns / 2))
    Write-Note "import breakdown: $breakdownRuns fresh processes each"
    $import.breakdown = [ordered]@{
        emptyManifest   = Measure-Import -Target (Join-Path $emptyDir 'Empty.psd1') -Expected $emptyDir -Runs $breakdownRuns
        dllAlone        = Measure-Import -Target (Join-Path $moduleDir 'MSCommerce.dll') -Expected $moduleDir -Runs $breakdownRuns
        manifestNoFormat = Measure-Import -Target $noFormatManifest -Expected $noFormat -Runs $breakdownRuns
        manifestByPath  = Measure-Import -Target $manifest -Expected $moduleDir -Runs $breakdownRuns
    }
}
finally {
    $env:PSModulePath = $savedModulePath
    Remove-Item Env:\MSCOMMERCE_BENCH_IMPORT -ErrorAction SilentlyContinue
    Remove-Item -LiteralPath $scratch -Recurse -Force -ErrorAction SilentlyContinue
}

# --- memory: a bulk update of many products in a fresh process ------------------------------
# The child reads its settings from the environment, prints one BENCH line: peak working set
# before and after the update (bytes), the updated count and the seconds it took.
$memoryChild = @'
$ErrorActionPreference = 'Stop'
# A redirected child would write every progress record to stderr as CLIXML.
$ProgressPreference = 'SilentlyContinue'
Import-Module $env:MSCOMMERCE_BENCH_MANIFEST 6>$null
Connect-MSCommerce -AccessToken $env:MSCOMMERCE_BENCH_TOKEN -ServiceUri $env:MSCOMMERCE_BENCH_URI 6>$null
$ids = [string[]][IO.File]::ReadAllLines($env:MSCOMMERCE_BENCH_IDS_FILE)
$self = Get-Process -Id $PID
[GC]::Collect()
$self.Refresh()
$before = $self.PeakWorkingSet64
$clock = [Diagnostics.Stopwatch]::StartNew()
$updated = 0
Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId $ids -Value Disabled 6>$null | ForEach-Object { $updated++ }
$seconds = $clock.Elapsed.TotalSeconds
$self.Refresh()
'BENCH ' + $before + ' ' + $self.PeakWorkingSet64 + ' ' + $updated + ' ' + $seconds.ToString([Globalization.CultureInfo]::InvariantCulture)
'@

function Measure-BulkMemory([string] $Base, [string] $Token, [int[]] $Sizes) {
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($memoryChild))
    $start = 1
    $results = @()
    foreach ($size in $Sizes) {
        Write-Note "memory: a bulk update of $size products in a fresh process"
        # Products of their own (a prefix apart from the bulk benchmark's), all Enabled.
        $body = @{ count = $size; start = $start; prefix = 'CFQ7TTC0MEM' } | ConvertTo-Json
        $added = Invoke-RestMethod -Method Post -Uri "$Base/admin/tenants/$tenant/products" -Body $body -ContentType 'application/json' -UseBasicParsing
        $ids = [string[]]@($added.added)
        if ($ids.Count -ne $size) { throw "the emulator added $($ids.Count) products, not $size" }
        $start += $size
        $env:MSCOMMERCE_BENCH_MANIFEST = $manifest
        $env:MSCOMMERCE_BENCH_TOKEN = $Token
        $env:MSCOMMERCE_BENCH_URI = $Base
        # A file: 10,000 ids are more than one environment variable holds on Linux (128 KiB).
        $idsFile = [IO.Path]::GetTempFileName()
        [IO.File]::WriteAllLines($idsFile, $ids)
        $env:MSCOMMERCE_BENCH_IDS_FILE = $idsFile
        try {
            $lines = & $self @prefix -NoLogo -NoProfile -NonInteractive -EncodedCommand $encoded
        }
        finally {
            Remove-Item Env:MSCOMMERCE_BENCH_TOKEN, Env:MSCOMMERCE_BENCH_IDS_FILE -ErrorAction SilentlyContinue
            Remove-Item -LiteralPath $idsFile -ErrorAction SilentlyContinue
        }
        if ($LASTEXITCODE -ne 0) { throw "The memory child failed (exit code $LASTEXITCODE): $($lines -join ' ')" }
        $line = @($lines | Where-Object { "$_".StartsWith('BENCH ') })[-1]
        $fields = "$line" -split ' '
        if ($fields.Count -ne 5 -or [int]$fields[3] -ne $size) { throw "The memory child printed no figures or updated too few: $line" }
        $results += [ordered]@{
            products       = $size
            peakBeforeMb   = [double]$fields[1] / 1048576
            peakAfterMb    = [double]$fields[2] / 1048576
            addedMb        = ([double]$fields[2] - [double]$fields[1]) / 1048576
            seconds        = [double]::Parse($fields[4], $invariant)
        }
    }
    , $results
}

# --- call and bulk against an emulator of this run --------------------------------------------
$env:RUST_LOG = 'warn'
# Relaxed durability, as bench/MSCommerce.Bench: the bulk figures are the module's, not the disk's.
$emulatorProcess = Start-TestEmulator -Path $Emulator -ServeArguments '--durability', 'relaxed'
try {
    $base = $emulatorProcess.ServiceUri.TrimEnd('/')
    $token = New-TestToken -Emulator $emulatorProcess
    Import-Module $manifest -Force 6>$null
    Connect-MSCommerce -AccessToken $token -ServiceUri $base 6>$null
    $headers = @{ Authorization = "Bearer $token" }
    $listUri = "$base/v1.0/policies/$policyId/products?scope=product"

    function Invoke-Raw {
        $answer = Invoke-RestMethod -Method Get -Uri $listUri -Headers $headers -UseBasicParsing
        foreach ($item in $answer.items) {
            [pscustomobject]@{
                PolicyValue = $item.policyValue
                ProductId   = $item.productId
                PolicyId    = $item.policyId
                ProductName = $item.productName
            }
        }
    }

    # One list, the module's and the raw request's calls interleaved in this session, medians.
    function Measure-Call {
        Write-Note "call: $Calls interleaved calls"
        $moduleTimes = New-Object 'System.Collections.Generic.List[double]'
        $rawTimes = New-Object 'System.Collections.Generic.List[double]'
        $items = 0
        # Enough calls for the JIT to settle on both paths (as bench/MSCommerce.Bench does).
        $warmUp = 100
        for ($i = -$warmUp; $i -lt $Calls; $i++) {
            $order = @('module', 'raw')
            if ($i % 2 -ne 0) { $order = @('raw', 'module') }
            foreach ($which in $order) {
                $clock = [Diagnostics.Stopwatch]::StartNew()
                if ($which -eq 'module') {
                    $out = @(Get-MSCommerceProductPolicies -PolicyId $policyId)
                }
                else {
                    $out = @(Invoke-Raw)
                }
                $ms = $clock.Elapsed.TotalMilliseconds
                if ($items -eq 0) { $items = $out.Count }
                elseif ($out.Count -ne $items) { throw "$which listed $($out.Count) products, not $items" }
                if ($i -ge 0) {
                    if ($which -eq 'module') { $moduleTimes.Add($ms) } else { $rawTimes.Add($ms) }
                }
            }
        }
        $moduleMedian = Get-Median $moduleTimes.ToArray()
        $rawMedian = Get-Median $rawTimes.ToArray()
        [ordered]@{
            items          = $items
            iterations     = $Calls
            moduleMedianMs = $moduleMedian
            rawMedianMs    = $rawMedian
            differenceMs   = $moduleMedian - $rawMedian
        }
    }

    $call = Measure-Call

    Write-Note "bulk: $Bulk products, $LatencyMs ms latency per request"
    $added = Invoke-RestMethod -Method Post -Uri "$base/admin/tenants/$tenant/products" -Body (@{ count = $Bulk } | ConvertTo-Json) -ContentType 'application/json' -UseBasicParsing
    $ids = [string[]]@($added.added)
    if ($ids.Count -ne $Bulk) { throw "the emulator added $($ids.Count) products, not $Bulk" }
    $idSet = New-Object 'System.Collections.Generic.HashSet[string]' (, $ids)
    # The seeded products and the bulk's: the issue's 1,017-product list.
    $callLarge = Measure-Call

    function Reset-Products {
        $null = Update-MSCommerceProductPolicy -PolicyId $policyId -ProductId $ids -Value Enabled -ThrottleLimit 64 6>$null
    }

    function Assert-AllDisabled([string] $What) {
        $now = @(Get-MSCommerceProductPolicies -PolicyId $policyId | Where-Object { $idSet.Contains([string]$_.ProductId) -and $_.PolicyValue -ne 'Disabled' })
        if ($now.Count -ne 0) { throw "$What left $($now.Count) products not Disabled" }
    }

    function Measure-Seconds([scriptblock] $Action) {
        Reset-Products
        $clock = [Diagnostics.Stopwatch]::StartNew()
        & $Action
        $clock.Elapsed.TotalSeconds
    }

    $faults = @{ latency = @{ ms = $LatencyMs } } | ConvertTo-Json -Compress
    $null = Invoke-RestMethod -Method Put -Uri "$base/admin/faults" -Body $faults -ContentType 'application/json' -UseBasicParsing
    try {
        $moduleBulk = Measure-Seconds {
            $null = Update-MSCommerceProductPolicy -PolicyId $policyId -ProductId $ids -Value Disabled 6>$null
        }
        Assert-AllDisabled 'the bulk update'
        Write-Note ("bulk: module bulk {0:F2} s" -f $moduleBulk)

        $sequential = Measure-Seconds {
            foreach ($id in $ids) {
                $body = @{ policyValue = 'Disabled' } | ConvertTo-Json
                $null = Invoke-RestMethod -Method Put -Uri "$base/v1.0/policies/$policyId/products/$id" -Headers $headers -Body $body -ContentType 'application/json' -UseBasicParsing
            }
        }
        Assert-AllDisabled 'the Invoke-RestMethod loop'
        Write-Note ("bulk: sequential Invoke-RestMethod loop {0:F2} s" -f $sequential)

        $perProduct = Measure-Seconds {
            foreach ($id in $ids) {
                $null = Update-MSCommerceProductPolicy -PolicyId $policyId -ProductId $id -Value Disabled 6>$null
            }
        }
        Assert-AllDisabled 'the foreach loop'
        Write-Note ("bulk: module once per product {0:F2} s" -f $perProduct)
        Reset-Products

        # Few products: the module's one command against the loop for the same products, median of
        # -SmallRuns each (set back untimed between runs).
        $small = foreach ($count in $SmallBulk) {
            $some = @($ids[0..($count - 1)])
            $moduleTimes = @(); $loopTimes = @()
            for ($run = 0; $run -lt $SmallRuns; $run++) {
                $null = Update-MSCommerceProductPolicy -PolicyId $policyId -ProductId $some -Value Enabled 6>$null
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $null = Update-MSCommerceProductPolicy -PolicyId $policyId -ProductId $some -Value Disabled 6>$null
                $moduleTimes += $clock.Elapsed.TotalSeconds
                $null = Update-MSCommerceProductPolicy -PolicyId $policyId -ProductId $some -Value Enabled 6>$null
                $clock = [Diagnostics.Stopwatch]::StartNew()
                foreach ($id in $some) {
                    $body = @{ policyValue = 'Disabled' } | ConvertTo-Json
                    $null = Invoke-RestMethod -Method Put -Uri "$base/v1.0/policies/$policyId/products/$id" -Headers $headers -Body $body -ContentType 'application/json' -UseBasicParsing
                }
                $loopTimes += $clock.Elapsed.TotalSeconds
            }
            [ordered]@{ products = $count; moduleS = (Get-Median $moduleTimes); loopS = (Get-Median $loopTimes) }
            Write-Note ("bulk: {0} products: module {1:F3} s, loop {2:F3} s" -f $count, (Get-Median $moduleTimes), (Get-Median $loopTimes))
        }
        Reset-Products
    }
    finally {
        $null = Invoke-RestMethod -Method Delete -Uri "$base/admin/faults" -UseBasicParsing
    }
    $bulkFigures = [ordered]@{
        products            = $Bulk
        latencyMs           = $LatencyMs
        moduleBulkS         = $moduleBulk
        sequentialRawS      = $sequential
        modulePerProductS   = $perProduct
        speedupVsSequential = $sequential / $moduleBulk
        speedupVsPerProduct = $perProduct / $moduleBulk
        small               = @($small)
    }
    $memoryFigures = Measure-BulkMemory -Base $base -Token $token -Sizes $MemoryBulk
}
finally {
    Stop-TestEmulator -Emulator $emulatorProcess
}

$report = [ordered]@{
    psVersion = $PSVersionTable.PSVersion.ToString()
    psEdition = "$($PSVersionTable.PSEdition)"
    import    = $import
    call      = $call
    callLarge = $callLarge
    bulk      = $bulkFigures
    memory    = $memoryFigures
}
$report | ConvertTo-Json -Depth 6 -Compress
