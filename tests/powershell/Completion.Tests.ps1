#Requires -Version 5.1
<#
.SYNOPSIS
    Tab completion (TabExpansion2) of -ProductId, -OfferType and -PolicyId from the connected
    tenant.

.DESCRIPTION
    A Pester 5 file, self-contained: it starts its own emulator, points the module at it with
    $env:MSCOMMERCE_SERVICE_URI, imports the module from $env:MSCOMMERCE_MODULE_DIR and connects
    this runspace with Connect-MSCommerce -AccessToken for the file's tests (disconnected again at
    the end). Nothing here changes the tenant.
#>

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSession.ps1')
    Connect-MSCommerce -AccessToken $adminToken 6>$null

    # The completions PowerShell offers with the cursor at the end of $Line.
    function Get-Completion([string] $Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches)
    }
}

AfterAll {
    Disconnect-MSCommerce -ErrorAction SilentlyContinue
    $env:MSCOMMERCE_SERVICE_URI = $savedServiceUri
    if ($emulator) { Stop-TestEmulator -Emulator $emulator }
}

Describe 'Tab completion from the connected tenant' {
    It '-ProductId completes part of a product name to its id, with the name as the tooltip' {
        $match = @(Get-Completion 'Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId visio' | Where-Object CompletionText -eq 'CFQ7TTC0HD33')
        $match.Count | Should -Be 1 -Because 'Visio Plan 1 is offered once'
        $match[0].ToolTip | Should -BeLike '*Visio Plan 1*'
    }

    It '-OfferType completes Sa to SaaS' {
        (Get-Completion 'Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -OfferType Sa')[0].CompletionText | Should -BeExactly 'SaaS'
    }

    It '-PolicyId completes Allow to AllowSelfServicePurchase' {
        (Get-Completion 'Get-MSCommercePolicy -PolicyId Allow')[0].CompletionText | Should -BeExactly 'AllowSelfServicePurchase'
    }
}
