#Requires -Version 5.1
<#
.SYNOPSIS
    PowerShell-level tests: the built module imported into a real PowerShell, its cmdlets run
    against a live emulator. Pester is not required (it is not on every build machine); each test
    is a script block that throws on failure.
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

$tests = [ordered]@{
    'Get-MSCommercePolicies returns the policy with the contract property names' = {
        $policies = @(Get-MSCommercePolicies -Token 'pstest')
        Assert-Equal 1 $policies.Count 'policy count'
        Assert-Equal 'AllowSelfServicePurchase' $policies[0].PolicyId 'PolicyId'
        if (-not $policies[0].Description) { throw 'Description is empty' }
        Assert-Equal 'Enabled' $policies[0].DefaultValue 'DefaultValue'
    }
    'Get-MSCommercePolicy takes the policy id by position and outputs MSCommerce.Policy' = {
        $policy = Get-MSCommercePolicy AllowSelfServicePurchase -Token 'pstest'
        Assert-Equal 'MSCommerce.Policy' $policy.PSObject.TypeNames[0] 'type name'
        Assert-Equal 'AllowSelfServicePurchase' $policy.policyid 'case-insensitive property access'
    }
    'an unknown policy is a non-terminating ObjectNotFound error aimed at the id' = {
        $out = Get-MSCommercePolicy -PolicyId 'NoSuchPolicy' -Token 'pstest' -ErrorAction SilentlyContinue -ErrorVariable failures
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
        try {
            Get-MSCommercePolicies
            throw 'no error was thrown'
        }
        catch {
            Assert-Equal 'You must call the Connect-MSCommerce cmdlet before calling any other cmdlets' $_.Exception.Message 'message'
        }
    }
    'the product list prints PolicyValue, ProductId, PolicyId, ProductName in that order' = {
        $text = Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Token 'pstest' | Out-String
        $header = ($text -split "`r?`n" | Where-Object { $_.Trim() } | Select-Object -First 1).Trim()
        Assert-Equal 'PolicyValue ProductId PolicyId ProductName' (($header -split '\s+') -join ' ') 'table header'
    }
}

$emulator = Start-TestEmulator
$passed = 0
$failed = 0
try {
    $env:MSCOMMERCE_SERVICE_URI = $emulator.ServiceUri
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
