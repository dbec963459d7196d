# Dot-sourced by the BeforeAll of each Pester file that drives the module against an emulator of
# its own, so that the variables it sets are the file's: $manifest (the laid-out module),
# $emulator, $savedServiceUri (what AfterAll puts back) and $adminToken (the seeded global
# administrator's token; never print it). The module is imported and any connection another file
# left in this runspace (pointing at that file's emulator) is dropped.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force
$manifest = Get-TestModuleManifest
$emulator = Start-TestEmulator
$savedServiceUri = $env:MSCOMMERCE_SERVICE_URI
$env:MSCOMMERCE_SERVICE_URI = $emulator.ServiceUri
$adminToken = New-TestToken -Emulator $emulator
Import-Module $manifest -Force 6>$null
Disconnect-MSCommerce
