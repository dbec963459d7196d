#Requires -Version 5.1
<#
.SYNOPSIS
    The contract of the original MSCommerce module, as the laid-out module keeps it against a live
    emulator: policy and product objects, the product table's column order, errors (id, category,
    target, message), the not-connected message, help and the exported cmdlets.

.DESCRIPTION
    A Pester 5 file, self-contained: it starts its own emulator, points the module at it with
    $env:MSCOMMERCE_SERVICE_URI and imports the module from $env:MSCOMMERCE_MODULE_DIR. Every test
    that changes the tenant puts it back. Tokens live only in variables and child environments,
    never in test names, assertions or messages (the run's output is scanned for them).
#>

BeforeDiscovery {
    # The six cmdlets of the original, the connection cmdlets and the baseline cmdlets.
    $exported = @(
        'Connect-MSCommerce', 'Disconnect-MSCommerce', 'Export-MSCommercePolicy', 'Export-MSCommercePolicyReport', 'Get-MSCommerceConnection',
        'Get-MSCommercePolicies', 'Get-MSCommercePolicy', 'Get-MSCommerceProductPolicies', 'Get-MSCommerceProductPolicy',
        'Import-MSCommercePolicy', 'Test-MSCommercePolicy', 'Update-MSCommerceProductPolicy')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSession.ps1')

    $notConnected = 'You must call the Connect-MSCommerce cmdlet before calling any other cmdlets'
    $desktop = $PSVersionTable.PSEdition -eq 'Desktop'

    # The message of the web cmdlets' exception for an HTTP status, which the original quotes:
    # .NET Framework's on Windows PowerShell 5.1, .NET's on PowerShell 7.
    function Get-WebErrorText([int] $Status, [string] $Reason) {
        if ($desktop) { "The remote server returned an error: ($Status) $Reason." }
        else { "Response status code does not indicate success: $Status ($Reason)." }
    }
    $expired = 'Your credentials have expired. Please, call Connect-MSCommerce again to regain access to MSCommerce Module.'
}

AfterAll {
    Disconnect-MSCommerce -ErrorAction SilentlyContinue
    $env:MSCOMMERCE_SERVICE_URI = $savedServiceUri
    if ($emulator) { Stop-TestEmulator -Emulator $emulator }
}

Describe 'Policies' {
    It 'Get-MSCommercePolicies returns the one policy with PolicyId, Description and DefaultValue' {
        $policies = @(Get-MSCommercePolicies -Token $adminToken)
        $policies.Count | Should -Be 1
        $policies[0].PolicyId | Should -BeExactly 'AllowSelfServicePurchase'
        $policies[0].Description | Should -Not -BeNullOrEmpty
        $policies[0].DefaultValue | Should -BeExactly 'Enabled'
    }

    It 'Get-MSCommercePolicy takes the policy id by position and outputs an MSCommerce.Policy' {
        $policy = Get-MSCommercePolicy AllowSelfServicePurchase -Token $adminToken
        $policy.PSObject.TypeNames[0] | Should -BeExactly 'MSCommerce.Policy'
        $policy.policyid | Should -BeExactly 'AllowSelfServicePurchase' -Because 'property access is case-insensitive'
    }
}

Describe 'Products' {
    It 'Get-MSCommerceProductPolicies lists the 17 seeded products as MSCommerce.ProductPolicy objects of the policy' {
        $products = @(Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Token $adminToken)
        $products.Count | Should -Be 17
        @($products | Where-Object { $_.PSObject.TypeNames[0] -ne 'MSCommerce.ProductPolicy' }).Count | Should -Be 0
        @($products | Where-Object { $_.PolicyId -ne 'AllowSelfServicePurchase' -or -not $_.ProductId -or -not $_.ProductName -or $_.PolicyValue -ne 'Enabled' }).ProductId | Should -BeNullOrEmpty
    }

    It 'Get-MSCommerceProductPolicy -OfferType outputs an MSCommerce.ScopePolicy with ScopeId, ScopeValue and Scope' {
        $offer = Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -OfferType SaaS -Token $adminToken
        $offer.PSObject.TypeNames[0] | Should -BeExactly 'MSCommerce.ScopePolicy'
        ($offer.PolicyId, $offer.PolicyValue, $offer.ScopeId, $offer.ScopeValue, $offer.Scope) -join '|' | Should -BeExactly 'AllowSelfServicePurchase|Enabled|SaaS|Software as a Service|OfferType'
    }

    It 'the product list prints the columns PolicyValue, ProductId, PolicyId, ProductName in that order' {
        $text = Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Token $adminToken | Out-String
        $header = ($text -split "`r?`n" | Where-Object { $_.Trim() } | Select-Object -First 1).Trim()
        ($header -split '\s+') -join ' ' | Should -BeExactly 'PolicyValue ProductId PolicyId ProductName'
    }
}

Describe 'Errors' {
    It 'an unknown policy is one non-terminating NotFound error of category ObjectNotFound aimed at the id' {
        $out = Get-MSCommercePolicy -PolicyId 'NoSuchPolicy' -Token $adminToken -ErrorAction SilentlyContinue -ErrorVariable failures
        @($out).Count | Should -Be 0 -Because 'nothing is written for a policy that does not exist'
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'NotFound,*'
        "$($failures[0].CategoryInfo.Category)" | Should -BeExactly 'ObjectNotFound'
        $failures[0].TargetObject | Should -BeExactly 'NoSuchPolicy'
        $failures[0].Exception.Message | Should -BeLike "Failed to retrieve policy with PolicyId 'NoSuchPolicy', ErrorMessage - *"
    }

    It 'a token the service refuses gives the expired-credentials message' {
        $null = Get-MSCommercePolicies -Token 'not-a-token' -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures[0].Exception.Message | Should -BeExactly $expired
    }

    It 'a token the service refuses is an AuthExpired error of category AuthenticationError' {
        $null = Get-MSCommercePolicies -Token 'not-a-token' -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures[0].FullyQualifiedErrorId | Should -BeExactly 'AuthExpired,MSCommerce.Commands.GetMSCommercePoliciesCommand'
        "$($failures[0].CategoryInfo.Category)" | Should -BeExactly 'AuthenticationError'
    }

    # The contract's `<what failed>, ErrorMessage - <error> ErrorDetails - <response body>`, with
    # the body exactly as the service sent it.
    It '<What> is one <Id> error of category <Category> aimed at <Target>, quoting the status and the service''s answer' -ForEach @(
        @{
            What = 'an unknown product'; Id = 'NotFound'; Category = 'ObjectNotFound'; Target = 'NOPE0000'; Status = 404; Reason = 'Not Found'
            Command = { Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId NOPE0000 -Token $adminToken }
            Class = 'GetMSCommerceProductPolicyCommand'
            Failed = "Failed to retrieve product policy with PolicyId 'AllowSelfServicePurchase' ProductId 'NOPE0000'"
            Body = '{"errorCode":"Unknown","reason":"Product ''NOPE0000'' was not found."}'
        }
        @{
            What = 'the products of an unknown policy'; Id = 'NotFound'; Category = 'ObjectNotFound'; Target = 'NoSuchPolicy'; Status = 404; Reason = 'Not Found'
            Command = { Get-MSCommerceProductPolicies -PolicyId NoSuchPolicy -Token $adminToken }
            Class = 'GetMSCommerceProductPoliciesCommand'
            Failed = "Failed to retrieve product policy with PolicyId 'NoSuchPolicy'"
            Body = '{"errorCode":"Unknown","reason":"Policy ''NoSuchPolicy'' was not found."}'
        }
        @{
            What = 'an update of an unknown product'; Id = 'NotFound'; Category = 'ObjectNotFound'; Target = 'NOPE0000'; Status = 404; Reason = 'Not Found'
            Command = { Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId NOPE0000 -Value Disabled -Token $adminToken 6>$null }
            Class = 'UpdateMSCommerceProductPolicyCommand'
            Failed = 'Failed to update product policy'
            Body = '{"errorCode":"Unknown","reason":"Product ''NOPE0000'' was not found."}'
        }
        @{
            What = 'a value an offer type does not take'; Id = 'BadRequest'; Category = 'InvalidArgument'; Target = 'SaaS'; Status = 400; Reason = 'Bad Request'
            Command = { Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -OfferType SaaS -Value OnlyTrialsWithoutPaymentMethod -Token $adminToken 6>$null }
            Class = 'UpdateMSCommerceProductPolicyCommand'
            Failed = 'Failed to update product policy'
            Body = '{"errorCode":"BadRequest","reason":"The offer type ''SaaS'' takes only Enabled or Disabled, not OnlyTrialsWithoutPaymentMethod."}'
        }
    ) {
        # Non-terminating errors stay non-terminating here, and are taken from the error stream.
        $ErrorActionPreference = 'Continue'
        $written = @(& $Command 2>&1)
        $failures = @($written | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        @($written | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] }).Count | Should -Be 0
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeExactly "$Id,MSCommerce.Commands.$Class"
        "$($failures[0].CategoryInfo.Category)" | Should -BeExactly $Category
        $failures[0].TargetObject | Should -BeExactly $Target
        $failures[0].Exception.Message | Should -BeExactly "$Failed, ErrorMessage - $(Get-WebErrorText $Status $Reason) ErrorDetails - $Body"
    }

    Context 'a global reader' {
        BeforeAll {
            $readerToken = New-TestToken -Emulator $emulator -User 'reader@contoso.onmicrosoft.com'
        }
        AfterEach {
            Reset-TestTenant -Emulator $emulator -Token $adminToken
        }

        It 'may read the products' {
            @(Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Token $readerToken).Count | Should -Be 17
        }

        It 'gets PermissionDenied on a change, and the product is not changed' {
            $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Disabled -Token $readerToken -ErrorAction SilentlyContinue -ErrorVariable failures 6>$null
            "$($failures[0].CategoryInfo.Category)" | Should -BeExactly 'PermissionDenied'
            Get-TestServiceValue -Emulator $emulator -Token $adminToken CFQ7TTC0H9MP | Should -BeExactly 'Enabled'
        }

        It 'gets a Forbidden error aimed at the product, quoting the 403 and the service''s reason' {
            $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Disabled -Token $readerToken -ErrorAction SilentlyContinue -ErrorVariable failures 6>$null
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'Forbidden,MSCommerce.Commands.UpdateMSCommerceProductPolicyCommand'
            $failures[0].TargetObject | Should -BeExactly 'CFQ7TTC0H9MP'
            $failures[0].Exception.Message | Should -BeLike "Failed to update product policy, ErrorMessage - $(Get-WebErrorText 403 'Forbidden') ErrorDetails - {*}"
        }
    }
}

Describe 'Host lines' {
    AfterEach {
        Disconnect-MSCommerce
        Reset-TestTenant -Emulator $emulator -Token $adminToken
    }

    It 'importing the module prints "MSCommerce module loaded"' {
        $lines = @(Import-Module $manifest -Force 6>&1)
        $lines | ForEach-Object { "$_" } | Should -Contain 'MSCommerce module loaded'
    }

    It 'Connect-MSCommerce -AccessToken prints "Connection established successfully"' {
        "$(Connect-MSCommerce -AccessToken $adminToken 6>&1)" | Should -BeExactly 'Connection established successfully'
    }

    It 'a Connect-MSCommerce that fails is a non-terminating "Unable to establish connection" error' {
        # Plain http goes to loopback hosts only.
        $lines = @(Connect-MSCommerce -AccessToken $adminToken -ServiceUri 'http://example.com' -ErrorAction SilentlyContinue -ErrorVariable failures 6>&1)
        $failures.Count | Should -Be 1
        $failures[0].Exception.Message | Should -BeLike 'Unable to establish connection*'
        $lines | ForEach-Object { "$_" } | Should -Not -Contain 'Connection established successfully'
    }

    It 'an update declined by -WhatIf prints "Updating product policy aborted" and changes nothing' {
        $lines = @(Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Disabled -Token $adminToken -WhatIf 6>&1)
        $lines | ForEach-Object { "$_" } | Should -Contain 'Updating product policy aborted'
        Get-TestServiceValue -Emulator $emulator -Token $adminToken CFQ7TTC0H9MP | Should -BeExactly 'Enabled'
    }
}

Describe 'Without a connection or a token' {
    BeforeAll {
        # A runspace of its own: never connected, whatever the other tests do.
        $fresh = [powershell]::Create()
        $null = $fresh.AddScript("Import-Module '$manifest' 6>`$null").Invoke()
    }
    AfterAll {
        $fresh.Dispose()
        Reset-TestTenant -Emulator $emulator -Token $adminToken
    }

    # The contract: every cmdlet but Connect throws a terminating error, so try/catch catches it.
    It '<Command> stops with the contract message' -ForEach @(
        @{ Command = 'Get-MSCommercePolicies' }
        @{ Command = 'Get-MSCommercePolicy -PolicyId AllowSelfServicePurchase' }
        @{ Command = 'Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase' }
        @{ Command = 'Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP' }
        @{ Command = 'Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Disabled' }
    ) {
        $fresh.Commands.Clear()
        $caught = @($fresh.AddScript("try { `$null = $Command 6>`$null; 'not stopped' } catch { `$_ }").Invoke())
        $caught.Count | Should -Be 1
        $caught[0] | Should -Not -Be 'not stopped' -Because 'the error is terminating'
        $caught[0].Exception.Message | Should -BeExactly $notConnected
    }
}

Describe 'Help' {
    It 'Get-Help <_> shows a synopsis, the syntax and examples' -ForEach $exported {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Be $_ -Because 'a synopsis that is only the name means the help file was not found'
        @($help.Syntax.SyntaxItem).Count | Should -BeGreaterThan 0
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
    }
}

Describe 'Exports' {
    It 'the module exports the six cmdlets of the original, the connection cmdlets and the baseline cmdlets' -ForEach @(@{ Expected = $exported }) {
        (Get-Command -Module MSCommerce | Sort-Object Name).Name -join ',' | Should -BeExactly (($Expected | Sort-Object) -join ',')
    }
}
