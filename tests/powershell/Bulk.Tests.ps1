#Requires -Version 5.1
<#
.SYNOPSIS
    Changes to many items: pipeline input, arrays, -ProductName, -All with -Exclude and -WhatIf,
    progress records, stopping a bulk update (Ctrl+C), and a 1,000-product tenant with two failing
    items; the service's state checked over HTTP after each.

.DESCRIPTION
    A Pester 5 file, self-contained: it starts its own emulator (and one more for the 1,000-product
    tenant, whose added products cannot be taken away again), points the module at it with
    $env:MSCOMMERCE_SERVICE_URI and imports the module from $env:MSCOMMERCE_MODULE_DIR. After every
    test the tenant's values and the emulator's fault knobs are put back. Tokens never reach test
    names, assertions or messages.
#>

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSession.ps1')

    # The service's own view of one product or offer type.
    function Get-ServiceValue([string] $ProductId, [string] $OfferType) {
        if ($OfferType) { Get-TestServiceValue -Emulator $emulator -Token $adminToken -OfferType $OfferType }
        else { Get-TestServiceValue -Emulator $emulator -Token $adminToken -ProductId $ProductId }
    }

    # A PowerShell of its own running $Script with the module imported and the token as $args[0]
    # (in a local scope, so no variable of it keeps the token).
    function New-BulkRunspace([string] $Script, [string] $Token) {
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$manifest' 6>`$null").Invoke()
        $ps.Commands.Clear()
        $null = $ps.AddScript($Script, $true).AddArgument($Token)
        $ps
    }
}

AfterAll {
    Disconnect-MSCommerce -ErrorAction SilentlyContinue
    $env:MSCOMMERCE_SERVICE_URI = $savedServiceUri
    if ($emulator) { Stop-TestEmulator -Emulator $emulator }
}

Describe 'Pipeline input' {
    AfterEach {
        Reset-TestTenant -Emulator $emulator -Token $adminToken
    }

    It 'piped products bind PolicyId and ProductId, and each one is updated' {
        $visio = @(Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Token $adminToken | Where-Object ProductName -like 'Visio*')
        $visio.Count | Should -BeGreaterOrEqual 2 -Because 'the seed has several Visio products'
        $out = @($visio | Update-MSCommerceProductPolicy -Value Disabled -Token $adminToken 6>$null)
        $out.Count | Should -Be $visio.Count
        foreach ($product in $visio) {
            Get-ServiceValue $product.ProductId | Should -BeExactly 'Disabled' -Because "$($product.ProductId) was piped"
        }
    }

    It 'piped offer types bind ScopeId to -OfferType' {
        $saas = Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Scope OfferType -Token $adminToken | Where-Object ScopeId -eq 'SaaS'
        $null = $saas | Update-MSCommerceProductPolicy -Enabled $false -Token $adminToken 6>$null
        Get-ServiceValue -OfferType SaaS | Should -BeExactly 'Disabled'
    }

    It 'Get-MSCommerceProductPolicy takes an array of ids and outputs one item for each' {
        $ids = 'CFQ7TTC0H9MP', 'CFQ7TTC0HD33'
        (@(Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId $ids -Token $adminToken).ProductId) -join ',' | Should -BeExactly ($ids -join ',')
    }

    It 'Get-MSCommerceProductPolicy takes piped objects with PolicyId and ProductId' {
        $piped = @([pscustomobject]@{ PolicyId = 'AllowSelfServicePurchase'; ProductId = 'CFQ7TTC0H9MP' } | Get-MSCommerceProductPolicy -Token $adminToken)
        $piped[0].ProductId | Should -BeExactly 'CFQ7TTC0H9MP'
    }
}

Describe 'Arrays' {
    Context '-ProductId with three ids, one of them unknown' {
        BeforeAll {
            $out = @(Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId 'CFQ7TTC0H9MP', 'NOPE0000', 'CFQ7TTC0HD33' -Value Disabled -Token $adminToken -ErrorAction SilentlyContinue -ErrorVariable failures 6>$null)
            $failures = @($failures)
        }
        AfterAll {
            Reset-TestTenant -Emulator $emulator -Token $adminToken
        }

        It 'updates and outputs the two known products' {
            $out.Count | Should -Be 2
            Get-ServiceValue CFQ7TTC0H9MP | Should -BeExactly 'Disabled'
            Get-ServiceValue CFQ7TTC0HD33 | Should -BeExactly 'Disabled'
        }

        It 'reports the unknown one as one error aimed at its id' {
            $failures.Count | Should -Be 1
            $failures[0].TargetObject | Should -BeExactly 'NOPE0000'
        }
    }
}

Describe '-ProductName' {
    AfterEach {
        Reset-TestTenant -Emulator $emulator -Token $adminToken
    }

    Context 'Get-MSCommerceProductPolicy with a name in another case and a pattern matching nothing' {
        BeforeAll {
            $out = @(Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductName 'power bi pro', 'No such*' -Token $adminToken -ErrorAction SilentlyContinue -ErrorVariable failures)
            $failures = @($failures)
        }

        It 'outputs the product the name matches, ignoring case' {
            $out[0].ProductId | Should -BeExactly 'CFQ7TTC0H9MP'
        }

        It 'reports the pattern that matches nothing as ObjectNotFound aimed at the pattern' {
            "$($failures[0].CategoryInfo.Category)" | Should -BeExactly 'ObjectNotFound'
            $failures[0].TargetObject | Should -BeExactly 'No such*'
        }
    }

    It '-WhatIf shows each product a name picks with its value now, and the value -Enabled gives' {
        $lines = Get-WhatIfLine { Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductName 'Power BI Pro' -Enabled $false -Token $adminToken -WhatIf 6>$null }
        $lines | Should -BeExactly 'What if: Performing the operation "Set AllowSelfServicePurchase to Disabled" on target "CFQ7TTC0H9MP (Power BI Pro, now Enabled)".'
    }

    It 'Update-MSCommerceProductPolicy -ProductName updates the product it names' {
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductName 'Power BI Pro' -Value Disabled -Token $adminToken 6>$null
        Get-ServiceValue CFQ7TTC0H9MP | Should -BeExactly 'Disabled'
    }
}

Describe '-All' {
    AfterEach {
        Reset-TestTenant -Emulator $emulator -Token $adminToken
    }

    It '-All -WhatIf changes nothing' {
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -All -Value Disabled -Token $adminToken -WhatIf 6>$null
        @(Get-TestServiceItem -Emulator $emulator -Token $adminToken | Where-Object policyValue -ne 'Enabled').productId | Should -BeNullOrEmpty -Because 'these products were changed by -WhatIf'
    }
}

Describe 'Progress' {
    BeforeAll {
        $ps = New-BulkRunspace 'Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP, CFQ7TTC0HD33, CFQ7TTC0HD32 -Value Disabled -Token $args[0] 6>$null' $adminToken
        $out = @($ps.Invoke())
        $progress = @($ps.Streams.Progress)
    }
    AfterAll {
        $ps.Dispose()
        Reset-TestTenant -Emulator $emulator -Token $adminToken
    }

    It 'a multi-item update writes ProgressRecords while it runs' {
        $out.Count | Should -Be 3 -Because 'the three products are updated'
        $progress.Count | Should -BeGreaterOrEqual 2
        $progress[0].Activity | Should -BeExactly 'Updating 3 items to Disabled'
    }

    It 'its last ProgressRecord completes the activity' {
        $progress[-1].RecordType | Should -Be ([System.Management.Automation.ProgressRecordType]::Completed)
    }
}

Describe 'Stopping a running bulk update (Ctrl+C)' {
    BeforeAll {
        # Each update takes half a second and two run at once: the whole tenant takes about 4.5 s.
        Set-TestFault -Emulator $emulator -Faults @{ latency = @{ ms = 500; method = 'PUT' } }
        $ps = New-BulkRunspace 'Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -All -Value Disabled -ThrottleLimit 2 -Token $args[0] -Confirm:$false 6>$null' $adminToken
        $running = $ps.BeginInvoke()
        Start-Sleep -Seconds 1
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $watch.Stop()
        $sentAtStop = Get-TestRequestCount -Emulator $emulator
        Start-Sleep -Milliseconds 1500
        $sentLater = Get-TestRequestCount -Emulator $emulator
        Clear-TestFault -Emulator $emulator
        $disabled = @(Get-TestServiceItem -Emulator $emulator -Token $adminToken | Where-Object policyValue -eq 'Disabled')
    }
    AfterAll {
        $ps.Dispose()
        Reset-TestTenant -Emulator $emulator -Token $adminToken
    }

    It 'Stop() returns within 5 seconds' {
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
    }

    It 'the pipeline has ended when Stop() returns' {
        $running.IsCompleted | Should -BeTrue
    }

    It 'nothing reaches the service after the stop' {
        $sentLater | Should -Be $sentAtStop
    }

    It 'was stopped part-way: some products were never changed' {
        $disabled.Count | Should -BeLessThan 17
    }
}

Describe 'A tenant of 1,000 more products' {
    BeforeAll {
        # Each context has an emulator of its own: products added to a tenant cannot be taken away
        # again, and putting 1,000 products back one request at a time would take most of a minute.
        function Start-BigTenant {
            $big = Start-TestEmulator
            $env:MSCOMMERCE_SERVICE_URI = $big.ServiceUri
            # The runspace's client was made for the file's emulator; the next one is made for this.
            Disconnect-MSCommerce
            $null = Add-TestProduct -Emulator $big -Count 1000
            $big
        }
        function Stop-BigTenant($Big) {
            $env:MSCOMMERCE_SERVICE_URI = $emulator.ServiceUri
            Disconnect-MSCommerce
            if ($Big) { Stop-TestEmulator -Emulator $Big }
        }
    }

    Context 'disabled with one command while two products fail' {
        BeforeAll {
            $big = Start-BigTenant
            $bigToken = New-TestToken -Emulator $big
            $failing = 'CFQ7TTC0BULK0007', 'CFQ7TTC0BULK0500'
            Set-TestFault -Emulator $big -Faults @{ failItems = @{ ids = $failing; status = 409; method = 'PUT' } }
            $out = @(Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -All -Value Disabled -ThrottleLimit 16 -Token $bigToken -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failures 6>$null)
            $failures = @($failures)
            Clear-TestFault -Emulator $big
            $all = @(Get-TestServiceItem -Emulator $big -Token $bigToken)
        }
        AfterAll {
            Stop-BigTenant $big
        }

        It 'reports exactly the two failing products, one error aimed at each' {
            (@($failures.TargetObject) | Sort-Object) -join ',' | Should -BeExactly ($failing -join ',')
        }

        It 'outputs every other product' {
            $all.Count | Should -Be 1017
            $out.Count | Should -Be ($all.Count - 2)
        }

        It 'leaves exactly the two failing products enabled' {
            (@($all | Where-Object policyValue -ne 'Disabled').productId | Sort-Object) -join ',' | Should -BeExactly ($failing -join ',')
        }
    }

    Context '-All -Exclude by name pattern and by id' {
        BeforeAll {
            $big = Start-BigTenant
            $bigToken = New-TestToken -Emulator $big
            $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -All -Value Disabled -Exclude 'Bulk product*', 'Visio*', 'CFQ7TTC0H9MP' -Token $bigToken -Confirm:$false 6>$null
            $all = @(Get-TestServiceItem -Emulator $big -Token $bigToken)
        }
        AfterAll {
            Stop-BigTenant $big
        }

        It 'keeps the products it names and disables every other one' {
            $excluded = { $_.productName -like 'Bulk product*' -or $_.productName -like 'Visio*' -or $_.productId -eq 'CFQ7TTC0H9MP' }
            $wrong = @($all | Where-Object { ($_.policyValue -eq 'Disabled') -eq (& $excluded) })
            $wrong.productId | Should -BeNullOrEmpty -Because 'these products are on the wrong side of -Exclude'
            @($all | Where-Object policyValue -eq 'Disabled').Count | Should -Be 14 -Because 'the seed has 17 products, two of them Visio and one Power BI Pro'
        }
    }
}
