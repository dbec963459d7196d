#Requires -Version 5.1
<#
.SYNOPSIS
    Scripts as admins wrote them for the original MSCommerce module, run unchanged against a live
    emulator, each followed by a check of the service's state (read over HTTP, not through the
    module), not only of the absence of errors.

.DESCRIPTION
    A Pester 5 file, self-contained: it starts its own emulator, points the module at it with
    $env:MSCOMMERCE_SERVICE_URI and imports the module from $env:MSCOMMERCE_MODULE_DIR. After every
    test the tenant is put back as seeded. Tokens never reach test names, assertions or messages.
#>

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSession.ps1')

    # The service's own view of one product or offer type.
    function Get-ServiceValue([string] $ProductId, [string] $OfferType) {
        if ($OfferType) { Get-TestServiceValue -Emulator $emulator -Token $adminToken -OfferType $OfferType }
        else { Get-TestServiceValue -Emulator $emulator -Token $adminToken -ProductId $ProductId }
    }
}

AfterAll {
    Disconnect-MSCommerce -ErrorAction SilentlyContinue
    $env:MSCOMMERCE_SERVICE_URI = $savedServiceUri
    if ($emulator) { Stop-TestEmulator -Emulator $emulator }
}

Describe 'Scripts written for the original module' {
    AfterEach {
        Reset-TestTenant -Emulator $emulator -Token $adminToken
    }

    It 'the documentation example script disables Power Automate per user' {
        # Plain Connect-MSCommerce signs in interactively in the original; here it binds the token.
        $PSDefaultParameterValues['Connect-MSCommerce:AccessToken'] = $adminToken
        try {
            $null = . {
                Import-Module -Name $manifest 6>$null
                Connect-MSCommerce #sign-in with your global or billing administrator account when prompted
                $product = Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase | where {$_.ProductName -match 'Power Automate per user'}
                Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId $product.ProductID -Value "Disabled"
            } 6>$null
        }
        finally {
            $PSDefaultParameterValues.Remove('Connect-MSCommerce:AccessToken')
            Disconnect-MSCommerce
        }
        Get-ServiceValue CFQ7TTC0LH3L | Should -BeExactly 'Disabled'
    }

    It '-Enabled $False on an old product id disables the product that replaced it' {
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0KP0N -Enabled $False -Token $adminToken 6>$null
        Get-ServiceValue CFQ7TTC0LH3L | Should -BeExactly 'Disabled'
    }

    It '-Enabled "True" on an old product id enables the product that replaced it' {
        Set-TestServiceValue -Emulator $emulator -Token $adminToken -ProductId CFQ7TTC0LH3L -Value Disabled
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0KP0N -Enabled "True" -Token $adminToken 6>$null
        Get-ServiceValue CFQ7TTC0LH3L | Should -BeExactly 'Enabled'
    }

    It '-Enabled with anything else is refused at binding with the original message' {
        { Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Enabled 'yes' -Token $adminToken } |
            Should -Throw -ExceptionType ([System.Management.Automation.ParameterBindingException]) -ExpectedMessage '*Value of $Enabled must be one of the following: $True, $true, $False, $false*'
    }

    It '-Enabled with anything else changes nothing' {
        try { Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Enabled 'yes' -Token $adminToken } catch { }
        Get-ServiceValue CFQ7TTC0H9MP | Should -BeExactly 'Enabled'
    }

    It 'an update prints the original host line, then outputs the updated item' {
        $lines = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Disabled -Token $adminToken 6>&1
        "$($lines[0])" | Should -BeExactly 'Update policy product success'
        $lines[1].PolicyValue | Should -BeExactly 'Disabled'
    }

    It '-WhatIf changes nothing' {
        Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Disabled -Token $adminToken -WhatIf 6>$null
        Get-ServiceValue CFQ7TTC0H9MP | Should -BeExactly 'Enabled'
    }

    It '-Scope OfferType lists the four offer types with their scope properties' {
        $offers = @(Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Scope OfferType -Token $adminToken)
        ($offers.ScopeId | Sort-Object) -join ',' | Should -BeExactly 'DYNAMICSBC,DYNAMICSCE,POWERBIVISUALS,SaaS'
        $offers[0].Scope | Should -BeExactly 'OfferType'
    }

    It '-OfferType SaaS -Value "Disabled" disables SaaS offers, as Get-MSCommerceProductPolicy reads back' {
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -OfferType SaaS -Value "Disabled" -Token $adminToken 6>$null
        (Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -OfferType SaaS -Token $adminToken).PolicyValue | Should -BeExactly 'Disabled'
        Get-ServiceValue -OfferType SaaS | Should -BeExactly 'Disabled'
    }

    It 'a loop over several matching products updates each' {
        $product = Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Token $adminToken | where { $_.ProductName -match 'Visio' }
        foreach ($id in $product.ProductID) {
            $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId $id -Value "Disabled" -Token $adminToken 6>$null
        }
        ((Get-ServiceValue CFQ7TTC0HD33), (Get-ServiceValue CFQ7TTC0HD32)) -join ',' | Should -BeExactly 'Disabled,Disabled'
    }

    It 'feature detection finds -Value on Update-MSCommerceProductPolicy' {
        (Get-Command Update-MSCommerceProductPolicy).Parameters.ContainsKey('Value') | Should -BeTrue
    }

    It 'splatted parameters list the 17 products' {
        $common = @{ Token = $adminToken; PolicyId = 'AllowSelfServicePurchase' }
        @(Get-MSCommerceProductPolicies @common).Count | Should -Be 17
    }

    It 'a row of the product table split on whitespace gives PolicyValue, ProductId, PolicyId and ProductName' {
        $rows = (Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Token $adminToken | Out-String) -split "`r?`n" | Where-Object { $_ -match '^\s*(Enabled|Disabled|OnlyTrialsWithoutPaymentMethod)\s' }
        $row = $rows | Where-Object { $_ -match 'CFQ7TTC0H9MP' }
        $value, $id, $policy, $name = $row.Trim() -split '\s+', 4
        $value | Should -BeExactly 'Enabled'
        $id | Should -BeExactly 'CFQ7TTC0H9MP'
        $policy | Should -BeExactly 'AllowSelfServicePurchase'
        $name | Should -BeExactly 'Power BI Pro'
    }

    It 'a product exports to CSV with the contract property names in table order, then its tenant' {
        $product = Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Token $adminToken
        @($product | ConvertTo-Csv -NoTypeInformation)[0] | Should -BeExactly '"PolicyValue","ProductId","PolicyId","ProductName","TenantId"'
    }

    It 'a product survives a JSON round trip with its ProductId' {
        $product = Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Token $adminToken
        ($product | ConvertTo-Json | ConvertFrom-Json).ProductId | Should -BeExactly 'CFQ7TTC0H9MP'
    }
}
