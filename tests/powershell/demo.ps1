#Requires -Version 5.1
<#
.SYNOPSIS
    The demo `build.ps1 demo` runs: the module against the emulator whose address is in
    $env:MSCOMMERCE_SERVICE_URI.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $ModulePath
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force

# A token the build minted from the emulator for its global administrator.
$token = $env:MSCOMMERCE_TOKEN

Write-Host "`nGet-MSCommercePolicy -PolicyId AllowSelfServicePurchase" -ForegroundColor Cyan
Get-MSCommercePolicy -PolicyId AllowSelfServicePurchase -Token $token | Format-List | Out-Host

Write-Host "Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase" -ForegroundColor Cyan
Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Token $token | Out-Host

Write-Host "Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Scope OfferType" -ForegroundColor Cyan
Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Scope OfferType -Token $token | Out-Host
