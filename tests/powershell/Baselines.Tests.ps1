#Requires -Version 5.1
<#
.SYNOPSIS
    Baselines: Export-MSCommercePolicy writes a baseline file, Test-MSCommercePolicy lists how the
    tenant drifted from it, Import-MSCommercePolicy plans with -WhatIf and sets back only what
    changed; a file that is not a baseline is refused.

.DESCRIPTION
    A Pester 5 file, self-contained: it starts its own emulator, points the module at it with
    $env:MSCOMMERCE_SERVICE_URI and imports the module from $env:MSCOMMERCE_MODULE_DIR. Files go
    to Pester's TestDrive. The tenant is put back after every test; its state is read over HTTP.
#>

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSession.ps1')
}

AfterAll {
    Disconnect-MSCommerce -ErrorAction SilentlyContinue
    $env:MSCOMMERCE_SERVICE_URI = $savedServiceUri
    if ($emulator) { Stop-TestEmulator -Emulator $emulator }
}

Describe 'A baseline exported from the seeded tenant' {
    BeforeAll {
        $file = Join-Path $TestDrive 'tenant.json'
        Export-MSCommercePolicy -PolicyId AllowSelfServicePurchase -Path $file -Token $adminToken
    }
    AfterEach {
        Reset-TestTenant -Emulator $emulator -Token $adminToken
    }

    It 'is a file of format MSCommerce.PolicyBaseline' {
        (Get-Content -Raw -LiteralPath $file | ConvertFrom-Json).format | Should -BeExactly 'MSCommerce.PolicyBaseline'
    }

    It 'Test-MSCommercePolicy -Quiet finds no drift while nothing changed' {
        Test-MSCommercePolicy -Path $file -Quiet -Token $adminToken | Should -BeTrue
    }

    Context 'after Power BI Pro was disabled' {
        BeforeEach {
            Set-TestServiceValue -Emulator $emulator -Token $adminToken -ProductId CFQ7TTC0H9MP -Value Disabled
        }

        It 'Test-MSCommercePolicy lists Power BI Pro as Changed from Enabled to Disabled, as an MSCommerce.PolicyDrift' {
            $drift = @(Test-MSCommercePolicy -Path $file -Token $adminToken)
            $drift[0].PSObject.TypeNames[0] | Should -BeExactly 'MSCommerce.PolicyDrift'
            ($drift[0].Id, $drift[0].Change, $drift[0].BaselineValue, $drift[0].CurrentValue) -join ',' | Should -BeExactly 'CFQ7TTC0H9MP,Changed,Enabled,Disabled'
        }

        It 'Import-MSCommercePolicy -WhatIf changes nothing' {
            $null = Import-MSCommercePolicy -Path $file -Token $adminToken -WhatIf
            Get-TestServiceValue -Emulator $emulator -Token $adminToken CFQ7TTC0H9MP | Should -BeExactly 'Disabled'
        }

        It 'Import-MSCommercePolicy -WhatIf shows the one change the core planned, with both values' {
            $lines = Get-WhatIfLine { Import-MSCommercePolicy -Path $file -Token $adminToken -WhatIf }
            $lines | Should -BeExactly 'What if: Performing the operation "Set AllowSelfServicePurchase from Disabled to Enabled" on target "Product CFQ7TTC0H9MP (Power BI Pro)".'
        }

        It 'Import-MSCommercePolicy sets back only the changed product' {
            $restored = @(Import-MSCommercePolicy -Path $file -Token $adminToken -Confirm:$false)
            $restored.Count | Should -Be 1 -Because 'only one item differs from the baseline'
            Get-TestServiceValue -Emulator $emulator -Token $adminToken CFQ7TTC0H9MP | Should -BeExactly 'Enabled'
        }
    }
}

Describe 'A baseline that says what new products get (version 2, -NewProducts Disabled)' {
    BeforeAll {
        $file = Join-Path $TestDrive 'with-new-products.json'
        Export-MSCommercePolicy -PolicyId AllowSelfServicePurchase -Path $file -NewProducts Disabled -Token $adminToken
        $added = @((Add-TestProduct -Emulator $emulator -Count 2).added)
    }
    AfterAll {
        Reset-TestTenant -Emulator $emulator -Token $adminToken
    }

    It 'is a version 2 file with newProducts' {
        $json = Get-Content -Raw -LiteralPath $file | ConvertFrom-Json
        ($json.version, $json.newProducts) -join ',' | Should -BeExactly '2,Disabled'
    }

    It 'Test-MSCommercePolicy reports each product added since as Added, with Disabled as its baseline value' {
        $drift = @(Test-MSCommercePolicy -Path $file -Token $adminToken | Where-Object Change -eq 'Added')
        ($drift | ForEach-Object { "$($_.Id)=$($_.BaselineValue)/$($_.CurrentValue)" }) -join ',' | Should -BeExactly "$($added[0])=Disabled/Enabled,$($added[1])=Disabled/Enabled"
    }

    It 'Import-MSCommercePolicy disables the products added since, and Test then finds no drift' {
        $null = Import-MSCommercePolicy -Path $file -Token $adminToken -Confirm:$false
        Get-TestServiceValue -Emulator $emulator -Token $adminToken $added[0] | Should -BeExactly 'Disabled'
        Get-TestServiceValue -Emulator $emulator -Token $adminToken $added[1] | Should -BeExactly 'Disabled'
        Test-MSCommercePolicy -Path $file -Quiet -Token $adminToken | Should -BeTrue
    }
}

Describe 'A file that is not a baseline' {
    It 'is an InvalidData error aimed at the file' {
        $file = Join-Path $TestDrive 'other.json'
        Set-Content -LiteralPath $file -Value '{"format": "other"}'
        $null = Test-MSCommercePolicy -Path $file -Token $adminToken -ErrorAction SilentlyContinue -ErrorVariable failures
        "$($failures[0].CategoryInfo.Category)" | Should -BeExactly 'InvalidData'
        $failures[0].TargetObject | Should -BeExactly $file
    }
}
