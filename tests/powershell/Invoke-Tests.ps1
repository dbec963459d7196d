#Requires -Version 5.1
<#
.SYNOPSIS
    PowerShell-level tests: the built module imported into a real PowerShell, its cmdlets run
    against a live emulator. Pester is not required (it is not on every build machine); each test
    is a script block that throws on failure. The compatibility tests run scripts written the way
    admins write them, unchanged, and check the service's state afterwards, not only that no
    error appeared.
#>
[CmdletBinding()]
param(
    # The manifest of the laid-out module (out/MSCommerce/<version>/MSCommerce.psd1).
    [Parameter(Mandatory)]
    [string] $ModulePath
)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force

function Assert-Equal($Expected, $Actual, [string] $What) {
    if ($Expected -cne $Actual) { throw "$What`: expected '$Expected', got '$Actual'" }
}

# The service's view of one product, read with the admin token, whatever the test did.
function Get-ServiceValue([string] $ProductId) {
    (Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId $ProductId -Token $script:adminToken).PolicyValue
}

function Reset-Product([string] $ProductId) {
    $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId $ProductId -Value Enabled -Token $script:adminToken 6>$null
}

$tests = [ordered]@{
    'Get-MSCommercePolicies returns the policy with the contract property names' = {
        $policies = @(Get-MSCommercePolicies -Token $adminToken)
        Assert-Equal 1 $policies.Count 'policy count'
        Assert-Equal 'AllowSelfServicePurchase' $policies[0].PolicyId 'PolicyId'
        if (-not $policies[0].Description) { throw 'Description is empty' }
        Assert-Equal 'Enabled' $policies[0].DefaultValue 'DefaultValue'
    }
    'Get-MSCommercePolicy takes the policy id by position and outputs MSCommerce.Policy' = {
        $policy = Get-MSCommercePolicy AllowSelfServicePurchase -Token $adminToken
        Assert-Equal 'MSCommerce.Policy' $policy.PSObject.TypeNames[0] 'type name'
        Assert-Equal 'AllowSelfServicePurchase' $policy.policyid 'case-insensitive property access'
    }
    'an unknown policy is a non-terminating ObjectNotFound error aimed at the id' = {
        $out = Get-MSCommercePolicy -PolicyId 'NoSuchPolicy' -Token $adminToken -ErrorAction SilentlyContinue -ErrorVariable failures
        Assert-Equal 0 @($out).Count 'objects written'
        Assert-Equal 1 $failures.Count 'errors written'
        $record = $failures[0]
        if ($record.FullyQualifiedErrorId -notlike 'NotFound,*') { throw "FullyQualifiedErrorId was $($record.FullyQualifiedErrorId)" }
        Assert-Equal 'ObjectNotFound' "$($record.CategoryInfo.Category)" 'category'
        Assert-Equal 'NoSuchPolicy' $record.TargetObject 'target object'
        if ($record.Exception.Message -notlike "Failed to retrieve policy with PolicyId 'NoSuchPolicy', ErrorMessage - *") {
            throw "message was: $($record.Exception.Message)"
        }
    }
    'without a connection or a token every cmdlet stops with the contract message' = {
        $fresh = [powershell]::Create()
        try {
            $null = $fresh.AddScript("Import-Module '$ModulePath' 6>`$null; Get-MSCommercePolicies")
            $null = $fresh.Invoke()
            throw 'no error was thrown'
        }
        catch {
            # The error arrives wrapped by the method call; look for it down the chain.
            $messages = @()
            for ($e = $_.Exception; $e; $e = $e.InnerException) { $messages += $e.Message }
            if ($messages -notcontains 'You must call the Connect-MSCommerce cmdlet before calling any other cmdlets') {
                throw "messages were: $($messages -join ' | ')"
            }
        }
        finally { $fresh.Dispose() }
    }
    'a token the service refuses gives the expired-credentials message' = {
        $null = Get-MSCommercePolicies -Token 'not-a-token' -ErrorAction SilentlyContinue -ErrorVariable failures
        Assert-Equal 'Your credentials have expired. Please, call Connect-MSCommerce again to regain access to MSCommerce Module.' $failures[0].Exception.Message 'message'
    }
    'the product list prints PolicyValue, ProductId, PolicyId, ProductName in that order' = {
        $text = Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Token $adminToken | Out-String
        $header = ($text -split "`r?`n" | Where-Object { $_.Trim() } | Select-Object -First 1).Trim()
        Assert-Equal 'PolicyValue ProductId PolicyId ProductName' (($header -split '\s+') -join ' ') 'table header'
    }
    'Get-Help shows synopsis, syntax and examples for every cmdlet' = {
        foreach ($name in (Get-Command -Module MSCommerce).Name) {
            $help = Get-Help $name -Full
            if (-not $help.Synopsis -or $help.Synopsis -eq $name) { throw "$name has no synopsis" }
            if (-not @($help.Examples.Example).Count) { throw "$name has no examples" }
        }
    }
    'the module exports the six cmdlets of the original, the connection and the baseline cmdlets' = {
        $names = (Get-Command -Module MSCommerce | Sort-Object Name).Name -join ','
        Assert-Equal 'Connect-MSCommerce,Disconnect-MSCommerce,Export-MSCommercePolicy,Get-MSCommerceConnection,Get-MSCommercePolicies,Get-MSCommercePolicy,Get-MSCommerceProductPolicies,Get-MSCommerceProductPolicy,Import-MSCommercePolicy,Test-MSCommercePolicy,Update-MSCommerceProductPolicy' $names 'exported cmdlets'
    }
    'Disconnect-MSCommerce ends the session: the next call needs a connection again' = {
        $fresh = [powershell]::Create()
        try {
            $env:MSCOMMERCE_TEST_TOKEN = $adminToken
            $null = $fresh.AddScript("Import-Module '$ModulePath' 6>`$null; Connect-MSCommerce -AccessToken `$env:MSCOMMERCE_TEST_TOKEN 6>`$null; `$before = @(Get-MSCommercePolicies).Count; Disconnect-MSCommerce; `$before; try { Get-MSCommercePolicies; 'still connected' } catch { `$_.Exception.Message }")
            $out = $fresh.Invoke()
            Assert-Equal 1 $out[0] 'policies while connected'
            Assert-Equal 'You must call the Connect-MSCommerce cmdlet before calling any other cmdlets' "$($out[1])" 'after Disconnect'
        }
        finally { $fresh.Dispose(); Remove-Item env:MSCOMMERCE_TEST_TOKEN }
    }
    'after Connect-MSCommerce no PowerShell variable holds the token (the original kept $token)' = {
        $fresh = [powershell]::Create()
        try {
            $env:MSCOMMERCE_TEST_TOKEN = $adminToken
            $null = $fresh.AddScript("Import-Module '$ModulePath' 6>`$null; Connect-MSCommerce -AccessToken (Get-Item env:MSCOMMERCE_TEST_TOKEN).Value 6>`$null; `$null = Get-MSCommercePolicies; Get-Variable | Where-Object { (`$_.Value | Out-String) -like ('*' + `$env:MSCOMMERCE_TEST_TOKEN + '*') } | ForEach-Object Name")
            $holders = @($fresh.Invoke())
            Assert-Equal '' ($holders -join ',') 'variables holding the token'
        }
        finally { $fresh.Dispose(); Remove-Item env:MSCOMMERCE_TEST_TOKEN }
    }
    'two runspaces of one process each keep their own connection' = {
        $readerToken = New-TestToken -Emulator $emulator -User 'reader@contoso.onmicrosoft.com'
        $admin = [powershell]::Create(); $reader = [powershell]::Create()
        try {
            $env:MSCOMMERCE_TEST_TOKEN = $adminToken
            $null = $admin.AddScript("Import-Module '$ModulePath' 6>`$null; Connect-MSCommerce -AccessToken `$env:MSCOMMERCE_TEST_TOKEN 6>`$null").Invoke()
            $env:MSCOMMERCE_TEST_TOKEN = $readerToken
            $null = $reader.AddScript("Import-Module '$ModulePath' 6>`$null; Connect-MSCommerce -AccessToken `$env:MSCOMMERCE_TEST_TOKEN 6>`$null").Invoke()
            $admin.Commands.Clear(); $reader.Commands.Clear()
            $update = "Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Disabled -ErrorAction SilentlyContinue -ErrorVariable failures 6>`$null; if (`$failures) { `$failures[0].CategoryInfo.Category.ToString() } else { 'changed' }"
            Assert-Equal 'PermissionDenied' "$($reader.AddScript($update).Invoke())" 'the reader runspace acts as the reader'
            Assert-Equal 'changed' "$($admin.AddScript($update).Invoke())" 'the admin runspace acts as the admin'
        }
        finally { $admin.Dispose(); $reader.Dispose(); Remove-Item env:MSCOMMERCE_TEST_TOKEN; Reset-Product 'CFQ7TTC0H9MP' }
    }

    # ---- compatibility: scripts as admins wrote them for the original ----
    'compat: the documentation example script disables Power Automate per user' = {
        # Plain Connect-MSCommerce signs in interactively in the original; here it binds the token.
        $PSDefaultParameterValues['Connect-MSCommerce:AccessToken'] = $adminToken
        try {
            Import-Module -Name $ModulePath 6>$null
            Connect-MSCommerce #sign-in with your global or billing administrator account when prompted
            $product = Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase | where {$_.ProductName -match 'Power Automate per user'}
            Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId $product.ProductID -Value "Disabled"
        }
        finally { $PSDefaultParameterValues.Remove('Connect-MSCommerce:AccessToken') }
        Assert-Equal 'Disabled' (Get-ServiceValue 'CFQ7TTC0LH3L') 'service state'
        Reset-Product 'CFQ7TTC0LH3L'
    }
    'compat: -Enabled $false and -Enabled "True" on an old product id' = {
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0KP0N -Enabled $False -Token $adminToken
        Assert-Equal 'Disabled' (Get-ServiceValue 'CFQ7TTC0LH3L') 'after -Enabled $False'
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0KP0N -Enabled "True" -Token $adminToken
        Assert-Equal 'Enabled' (Get-ServiceValue 'CFQ7TTC0LH3L') 'after -Enabled "True"'
    }
    'compat: -Enabled with anything else is refused with the original message and changes nothing' = {
        try {
            Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Enabled 'yes' -Token $adminToken
            throw 'no error was thrown'
        }
        catch [System.Management.Automation.ParameterBindingException] {
            if ($_.Exception.Message -notlike '*Value of $Enabled must be one of the following: $True, $true, $False, $false*') { throw "message was: $($_.Exception.Message)" }
        }
        Assert-Equal 'Enabled' (Get-ServiceValue 'CFQ7TTC0H9MP') 'service state'
    }
    'compat: the update prints the original host line and outputs the item' = {
        $lines = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Disabled -Token $adminToken 6>&1
        Assert-Equal 'Update policy product success' "$($lines[0])" 'host line'
        Assert-Equal 'Disabled' $lines[1].PolicyValue 'output object'
        Reset-Product 'CFQ7TTC0H9MP'
    }
    'compat: -WhatIf changes nothing' = {
        Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Disabled -Token $adminToken -WhatIf 6>$null
        Assert-Equal 'Enabled' (Get-ServiceValue 'CFQ7TTC0H9MP') 'service state'
    }
    'compat: -Scope OfferType lists the offer types with their scope properties' = {
        $offers = @(Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Scope OfferType -Token $adminToken)
        Assert-Equal 'DYNAMICSBC,DYNAMICSCE,POWERBIVISUALS,SaaS' (($offers.ScopeId | Sort-Object) -join ',') 'ScopeId'
        Assert-Equal 'OfferType' $offers[0].Scope 'Scope'
    }
    'compat: -OfferType SaaS -Value Disabled, read back' = {
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -OfferType SaaS -Value "Disabled" -Token $adminToken
        Assert-Equal 'Disabled' (Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -OfferType SaaS -Token $adminToken).PolicyValue 'service state'
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -OfferType SaaS -Value "Enabled" -Token $adminToken
    }
    'compat: a loop over several matches updates each' = {
        $product = Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Token $adminToken | where { $_.ProductName -match 'Visio' }
        foreach ($id in $product.ProductID) {
            $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId $id -Value "Disabled" -Token $adminToken
        }
        Assert-Equal 'Disabled,Disabled' ((Get-ServiceValue 'CFQ7TTC0HD33'), (Get-ServiceValue 'CFQ7TTC0HD32') -join ',') 'service state'
        Reset-Product 'CFQ7TTC0HD33'; Reset-Product 'CFQ7TTC0HD32'
    }
    'compat: feature detection and splatting' = {
        if (-not (Get-Command Update-MSCommerceProductPolicy).Parameters.ContainsKey('Value')) { throw 'no -Value' }
        $common = @{ Token = $adminToken; PolicyId = 'AllowSelfServicePurchase' }
        Assert-Equal 17 @(Get-MSCommerceProductPolicies @common).Count 'products'
    }
    'compat: parsing Out-String of the product table gives the four fields' = {
        $rows = (Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Token $adminToken | Out-String) -split "`r?`n" | Where-Object { $_ -match '^\s*(Enabled|Disabled|OnlyTrialsWithoutPaymentMethod)\s' }
        $row = $rows | Where-Object { $_ -match 'CFQ7TTC0H9MP' }
        $value, $id, $policy, $name = $row.Trim() -split '\s+', 4
        Assert-Equal 'CFQ7TTC0H9MP' $id 'ProductId field'
        Assert-Equal 'AllowSelfServicePurchase' $policy 'PolicyId field'
        Assert-Equal 'Power BI Pro' $name 'ProductName field'
    }
    'compat: objects export to CSV and JSON with the contract property names' = {
        $product = Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Token $adminToken
        Assert-Equal '"PolicyValue","ProductId","PolicyId","ProductName"' (@($product | ConvertTo-Csv -NoTypeInformation)[0]) 'CSV header'
        Assert-Equal 'CFQ7TTC0H9MP' ($product | ConvertTo-Json | ConvertFrom-Json).ProductId 'JSON round trip'
    }
    'a global reader may read but gets PermissionDenied on a change' = {
        $readerToken = New-TestToken -Emulator $emulator -User 'reader@contoso.onmicrosoft.com'
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Disabled -Token $readerToken -ErrorAction SilentlyContinue -ErrorVariable failures 6>$null
        Assert-Equal 'PermissionDenied' "$($failures[0].CategoryInfo.Category)" 'category'
        Assert-Equal 'Enabled' (Get-ServiceValue 'CFQ7TTC0H9MP') 'service state'
    }
    'pipeline: piped products bind PolicyId and ProductId, and each one is updated' = {
        $visio = @(Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Token $adminToken | Where-Object ProductName -like 'Visio*')
        if ($visio.Count -lt 2) { throw "expected several Visio products, found $($visio.Count)" }
        $out = @($visio | Update-MSCommerceProductPolicy -Value Disabled -Token $adminToken 6>$null)
        Assert-Equal $visio.Count $out.Count 'updated items output'
        foreach ($product in $visio) {
            Assert-Equal 'Disabled' (Get-ServiceValue $product.ProductId) "service state of $($product.ProductId)"
            Reset-Product $product.ProductId
        }
    }
    'pipeline: piped offer types bind ScopeId to -OfferType' = {
        $saas = Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Scope OfferType -Token $adminToken | Where-Object ScopeId -eq 'SaaS'
        $null = $saas | Update-MSCommerceProductPolicy -Enabled $false -Token $adminToken 6>$null
        Assert-Equal 'Disabled' (Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -OfferType SaaS -Token $adminToken).PolicyValue 'service state'
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -OfferType SaaS -Value Enabled -Token $adminToken 6>$null
    }
    'pipeline: Get-MSCommerceProductPolicy takes piped products and an array of ids' = {
        $ids = 'CFQ7TTC0H9MP', 'CFQ7TTC0HD33'
        Assert-Equal 2 @(Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId $ids -Token $adminToken).Count 'items for an array'
        $piped = @([pscustomobject]@{ PolicyId = 'AllowSelfServicePurchase'; ProductId = 'CFQ7TTC0H9MP' } | Get-MSCommerceProductPolicy -Token $adminToken)
        Assert-Equal 'CFQ7TTC0H9MP' $piped[0].ProductId 'piped id'
    }
    'arrays: -ProductId takes several ids; a failing one is one error aimed at its id' = {
        $out = @(Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId 'CFQ7TTC0H9MP', 'NOPE0000', 'CFQ7TTC0HD33' -Value Disabled -Token $adminToken -ErrorAction SilentlyContinue -ErrorVariable failures 6>$null)
        Assert-Equal 2 $out.Count 'updated items'
        Assert-Equal 1 $failures.Count 'errors'
        Assert-Equal 'NOPE0000' $failures[0].TargetObject 'error target'
        Assert-Equal 'Disabled' (Get-ServiceValue 'CFQ7TTC0HD33') 'service state'
        Reset-Product 'CFQ7TTC0H9MP'; Reset-Product 'CFQ7TTC0HD33'
    }
    'names: -ProductName takes wildcards; a name matching nothing is ObjectNotFound' = {
        $out = @(Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductName 'power bi pro', 'No such*' -Token $adminToken -ErrorAction SilentlyContinue -ErrorVariable failures)
        Assert-Equal 'CFQ7TTC0H9MP' $out[0].ProductId 'matched product'
        Assert-Equal 'ObjectNotFound' "$($failures[0].CategoryInfo.Category)" 'category'
        Assert-Equal 'No such*' $failures[0].TargetObject 'target'
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductName 'Power BI Pro' -Value Disabled -Token $adminToken 6>$null
        Assert-Equal 'Disabled' (Get-ServiceValue 'CFQ7TTC0H9MP') 'service state'
        Reset-Product 'CFQ7TTC0H9MP'
    }
    'bulk: -All -WhatIf changes nothing' = {
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -All -Value Disabled -Token $adminToken -WhatIf 6>$null
        $disabled = @(Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Token $adminToken | Where-Object PolicyValue -ne 'Enabled')
        Assert-Equal 0 $disabled.Count 'products changed by -WhatIf'
    }
    'bulk: a 1,000-product tenant disabled with one command; exactly the two failing products are reported' = {
        $admin = "$($emulator.ServiceUri)/admin"
        $null = Invoke-RestMethod -Method Post -Uri "$admin/tenants/contoso.onmicrosoft.com/products" -ContentType 'application/json' -Body '{"count": 1000}'
        $failing = 'CFQ7TTC0BULK0007', 'CFQ7TTC0BULK0500'
        $faults = @{ failItems = @{ ids = $failing; status = 409; method = 'PUT' } } | ConvertTo-Json -Depth 4
        $null = Invoke-RestMethod -Method Put -Uri "$admin/faults" -ContentType 'application/json' -Body $faults
        try {
            $out = @(Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -All -Value Disabled -ThrottleLimit 16 -Token $adminToken -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failures 6>$null)
        }
        finally {
            $null = Invoke-RestMethod -Method Delete -Uri "$admin/faults"
        }
        Assert-Equal ($failing -join ',') ((@($failures.TargetObject) | Sort-Object) -join ',') 'failed items'
        $all = @(Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Token $adminToken)
        Assert-Equal ($all.Count - 2) $out.Count 'updated items output'
        Assert-Equal ($failing -join ',') ((@($all | Where-Object PolicyValue -ne 'Disabled').ProductId | Sort-Object) -join ',') 'products left enabled'
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -All -Value Enabled -Token $adminToken -Confirm:$false 6>$null
    }
    'bulk: -Exclude keeps the products it names, by id or by name pattern' = {
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -All -Value Disabled -Exclude 'Bulk product*', 'Visio*', 'CFQ7TTC0H9MP' -Token $adminToken -Confirm:$false 6>$null
        $all = @(Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Token $adminToken)
        $wrong = @($all | Where-Object { ($_.PolicyValue -eq 'Disabled') -eq ($_.ProductName -like 'Bulk product*' -or $_.ProductName -like 'Visio*' -or $_.ProductId -eq 'CFQ7TTC0H9MP') })
        Assert-Equal 0 $wrong.Count 'products on the wrong side of -Exclude'
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -All -Value Enabled -Token $adminToken -Confirm:$false 6>$null
    }
    'baselines: export, drift, import -WhatIf plans, import applies only the differences' = {
        $file = Join-Path ([IO.Path]::GetTempPath()) ("mscommerce-baseline-" + [guid]::NewGuid() + '.json')
        try {
            Export-MSCommercePolicy -PolicyId AllowSelfServicePurchase -Path $file -Token $adminToken
            Assert-Equal 'MSCommerce.PolicyBaseline' (Get-Content -Raw $file | ConvertFrom-Json).format 'file format'
            Assert-Equal $true (Test-MSCommercePolicy -Path $file -Quiet -Token $adminToken) 'no drift yet'
            $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Disabled -Token $adminToken 6>$null
            $drift = @(Test-MSCommercePolicy -Path $file -Token $adminToken)
            Assert-Equal 'MSCommerce.PolicyDrift' $drift[0].PSObject.TypeNames[0] 'type name'
            Assert-Equal 'CFQ7TTC0H9MP,Changed,Enabled,Disabled' (($drift[0].Id, $drift[0].Change, $drift[0].BaselineValue, $drift[0].CurrentValue) -join ',') 'drift'
            $null = Import-MSCommercePolicy -Path $file -Token $adminToken -WhatIf
            Assert-Equal 'Disabled' (Get-ServiceValue 'CFQ7TTC0H9MP') 'service state after -WhatIf'
            $restored = @(Import-MSCommercePolicy -Path $file -Token $adminToken -Confirm:$false)
            Assert-Equal 1 $restored.Count 'items changed by the import'
            Assert-Equal 'Enabled' (Get-ServiceValue 'CFQ7TTC0H9MP') 'service state after the import'
        }
        finally { Remove-Item -LiteralPath $file -ErrorAction SilentlyContinue }
    }
    'baselines: a file that is not a baseline is InvalidData aimed at the file' = {
        $file = Join-Path ([IO.Path]::GetTempPath()) ("mscommerce-other-" + [guid]::NewGuid() + '.json')
        try {
            Set-Content -LiteralPath $file -Value '{"format": "other"}'
            $null = Test-MSCommercePolicy -Path $file -Token $adminToken -ErrorAction SilentlyContinue -ErrorVariable failures
            Assert-Equal 'InvalidData' "$($failures[0].CategoryInfo.Category)" 'category'
            Assert-Equal $file $failures[0].TargetObject 'target'
        }
        finally { Remove-Item -LiteralPath $file -ErrorAction SilentlyContinue }
    }
    'completion: -ProductId completes from the connected tenant with product names as tooltips' = {
        Connect-MSCommerce -AccessToken $adminToken 6>$null
        try {
            $line = 'Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId visio'
            $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
            $match = @($completion.CompletionMatches | Where-Object CompletionText -eq 'CFQ7TTC0HD33')
            Assert-Equal 1 $match.Count 'Visio Plan 1 offered'
            if ($match[0].ToolTip -notlike '*Visio Plan 1*') { throw "tooltip was $($match[0].ToolTip)" }
            $line = 'Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -OfferType Sa'
            Assert-Equal 'SaaS' ((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches[0].CompletionText) 'offer type'
            $line = 'Get-MSCommercePolicy -PolicyId Allow'
            Assert-Equal 'AllowSelfServicePurchase' ((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches[0].CompletionText) 'policy id'
        }
        finally { Disconnect-MSCommerce }
    }
    'Ctrl+C: stopping a running bulk update stops it promptly and nothing is sent afterwards' = {
        $admin = "$($emulator.ServiceUri)/admin"
        $null = Invoke-RestMethod -Method Put -Uri "$admin/faults" -ContentType 'application/json' -Body '{"latency": {"ms": 500, "method": "PUT"}}'
        $ps = [powershell]::Create()
        try {
            $env:MSCOMMERCE_TEST_TOKEN = $adminToken
            $null = $ps.AddScript("Import-Module '$ModulePath' 6>`$null; Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -All -Value Disabled -ThrottleLimit 2 -Token `$env:MSCOMMERCE_TEST_TOKEN -Confirm:`$false 6>`$null")
            $running = $ps.BeginInvoke()
            Start-Sleep -Seconds 2
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Stop()
            if ($watch.Elapsed.TotalSeconds -gt 5) { throw "Stop took $($watch.Elapsed.TotalSeconds) s" }
            $sent = (Invoke-RestMethod -Uri "$admin/requests").total
            Start-Sleep -Seconds 2
            Assert-Equal $sent (Invoke-RestMethod -Uri "$admin/requests").total 'requests after the stop'
            if (-not $running.IsCompleted) { throw 'the pipeline did not end' }
        }
        finally {
            $ps.Dispose()
            $null = Invoke-RestMethod -Method Delete -Uri "$admin/faults"
            $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -All -Value Enabled -Token $adminToken -Confirm:$false 6>$null
        }
    }
    'concurrency: ForEach-Object -Parallel, 8 runspaces on two tenants, no cross-talk' = {
        if ($PSVersionTable.PSVersion.Major -lt 7) { return }
        $tokens = @{
            contoso  = $adminToken
            fabrikam = New-TestToken -Emulator $emulator -User 'admin@fabrikam.onmicrosoft.com' -Tenant 'fabrikam.onmicrosoft.com'
        }
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Disabled -Token $tokens.contoso 6>$null
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Enabled -Token $tokens.fabrikam 6>$null
        $results = 1..8 | ForEach-Object -ThrottleLimit 8 -Parallel {
            $tenant = if ($_ % 2) { 'contoso' } else { 'fabrikam' }
            Import-Module $using:ModulePath 6>$null
            Connect-MSCommerce -AccessToken ($using:tokens)[$tenant] 6>$null
            foreach ($round in 1..10) {
                $account = (Get-MSCommerceConnection).Account
                $value = (Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP).PolicyValue
                "$tenant|$account|$value"
            }
        }
        Assert-Equal 80 @($results).Count 'answers'
        foreach ($line in $results) {
            $tenant, $account, $value = $line -split '\|'
            Assert-Equal "admin@$tenant.onmicrosoft.com" $account 'account of the runspace'
            Assert-Equal $(if ($tenant -eq 'contoso') { 'Disabled' } else { 'Enabled' }) $value "value seen by $tenant"
        }
        Reset-Product 'CFQ7TTC0H9MP'
    }
    'importing and removing the module 20 times leaks no threads' = {
        $threads = { (Get-Process -Id $PID).Threads.Count }
        Remove-Module MSCommerce -ErrorAction SilentlyContinue
        Import-Module $ModulePath -Force 6>$null
        $null = Get-MSCommercePolicies -Token $adminToken
        $before = & $threads
        foreach ($i in 1..20) {
            Remove-Module MSCommerce
            Import-Module $ModulePath -Force 6>$null
            $null = Get-MSCommercePolicies -Token $adminToken
        }
        [GC]::Collect(); [GC]::WaitForPendingFinalizers()
        $after = & $threads
        if ($after -gt $before + 4) { throw "threads before $before, after 20 imports $after" }
    }
}

$emulator = Start-TestEmulator
$passed = 0
$failed = 0
try {
    $env:MSCOMMERCE_SERVICE_URI = $emulator.ServiceUri
    $adminToken = New-TestToken -Emulator $emulator
    Import-Module $ModulePath -Force
    foreach ($name in $tests.Keys) {
        try {
            $null = & $tests[$name]
            $passed++
            Write-Host "ok      $name"
        }
        catch {
            $failed++
            Write-Host "FAILED  $name`n        $($_.Exception.Message)"
        }
    }
}
finally {
    Stop-TestEmulator $emulator
}
Write-Host "$passed passed, $failed failed"
if ($failed) { exit 1 }
