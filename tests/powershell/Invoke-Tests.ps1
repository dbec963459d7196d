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
    'the module exports the six cmdlets of the original and the connection cmdlets' = {
        $names = (Get-Command -Module MSCommerce | Sort-Object Name).Name -join ','
        Assert-Equal 'Connect-MSCommerce,Disconnect-MSCommerce,Get-MSCommerceConnection,Get-MSCommercePolicies,Get-MSCommercePolicy,Get-MSCommerceProductPolicies,Get-MSCommerceProductPolicy,Update-MSCommerceProductPolicy' $names 'exported cmdlets'
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
