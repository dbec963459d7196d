#Requires -Version 5.1
<#
.SYNOPSIS
    Partners (GDAP): a partner's administrator signs in once and then works in three customers'
    tenants without a prompt: Connect-MSCommerce -TenantId, -TenantId on the service cmdlets, one
    baseline tested and imported across the three with one tenant lacking the role, and the HTML
    report read back in headless Chromium.

.DESCRIPTION
    A Pester 5 file, self-contained: it starts its own emulator, whose seed has a partner
    (treyresearch) with delegated admin relationships to adatum (Billing Administrator), litware
    (Global Administrator) and tailspin (Global Reader: reads only), and none to contoso. The
    partner signs in once with a device code (approved on the emulator's page, as a person would)
    into a token cache in a folder of this run; everything after that is silent. The service's
    state is read and reset with each customer's own administrator's token, never through the
    module. Tokens stay in variables; none is written to the output.
#>

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSession.ps1')
    Import-Module (Join-Path $PSScriptRoot 'Browser.psm1') -Force

    $policy = 'AllowSelfServicePurchase'
    $partner = 'partneradmin@treyresearch.onmicrosoft.com'
    $partnerTenant = '00000000-0000-0000-0000-00000000a001'
    $adatum = 'adatum.onmicrosoft.com'
    $litware = 'litware.onmicrosoft.com'
    $tailspin = 'tailspin.onmicrosoft.com'
    $customers = @($adatum, $litware, $tailspin)
    $tenantIds = @{
        $adatum   = '00000000-0000-0000-0000-00000000b001'
        $litware  = '00000000-0000-0000-0000-00000000b002'
        $tailspin = '00000000-0000-0000-0000-00000000b003'
    }
    # Each customer's own administrator: how the test sees and resets the service's state.
    $customerTokens = @{}
    foreach ($customer in $customers) {
        $customerTokens[$customer] = New-TestToken -Emulator $emulator -Tenant $customer -User "admin@$customer"
    }
    $product = 'CFQ7TTC0H9MP'

    function Get-CustomerValue([string] $Tenant, [string] $ProductId = $product) {
        Get-TestServiceValue -Emulator $emulator -Token $customerTokens[$Tenant] -PolicyId $policy -ProductId $ProductId
    }

    function Set-CustomerValue([string] $Tenant, [string] $Value, [string] $ProductId = $product) {
        Set-TestServiceValue -Emulator $emulator -Token $customerTokens[$Tenant] -PolicyId $policy -ProductId $ProductId -Value $Value
    }

    $saved = @{}
    foreach ($name in 'MSCOMMERCE_AUTHORITY_URI', 'MSCOMMERCE_TOKEN_CACHE', 'MSCOMMERCE_TOKEN_CACHE_DIR', 'MSCOMMERCE_BROWSER') {
        $saved[$name] = [Environment]::GetEnvironmentVariable($name)
    }
    $work = Join-Path ([IO.Path]::GetTempPath()) ('mscommerce-partners-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Path $work
    $env:MSCOMMERCE_AUTHORITY_URI = $emulator.ServiceUri
    $env:MSCOMMERCE_TOKEN_CACHE = 'file'
    $env:MSCOMMERCE_TOKEN_CACHE_DIR = Join-Path $work 'cache'
    # No browser may open after the one sign-in: a program that does not exist fails at once.
    $env:MSCOMMERCE_BROWSER = Join-Path $work 'no-browser-expected'

    # The one interactive sign-in, with a device code: Connect-MSCommerce runs in a runspace of
    # its own, which waits while this one approves the code on the emulator's page.
    $http = [Net.Http.HttpClient]::new()
    $signIn = [powershell]::Create()
    $null = $signIn.AddScript("Import-Module '$manifest' 6>`$null; Connect-MSCommerce -DeviceCode -TenantId treyresearch.onmicrosoft.com 6>`$null")
    $handle = $signIn.BeginInvoke()
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    while ($signIn.Streams.Warning.Count -eq 0 -and -not $handle.IsCompleted) {
        if ([DateTime]::UtcNow -gt $deadline) { throw 'No device code message within 60 seconds.' }
        Start-Sleep -Milliseconds 50
    }
    if ($signIn.Streams.Warning.Count -gt 0) {
        $code = ("$($signIn.Streams.Warning[0])" -split 'enter the code ')[1].Split(' ')[0]
        $form = [Collections.Generic.Dictionary[string, string]]::new()
        $form['user_code'] = $code
        $form['user'] = $partner
        $form['action'] = 'approve'
        $answer = $http.PostAsync("$($emulator.ServiceUri)/devicelogin", [Net.Http.FormUrlEncodedContent]::new($form)).GetAwaiter().GetResult()
        if (-not $answer.IsSuccessStatusCode) { throw "The device login page answered $([int] $answer.StatusCode)." }
    }
    if (-not $handle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(60))) { throw 'The partner''s sign-in did not finish.' }
    $null = $signIn.EndInvoke($handle)
    if ($signIn.Streams.Error.Count) { throw "The partner's sign-in failed: $($signIn.Streams.Error[0])" }
    $signIn.Dispose()

    $outputFolder = Join-Path $PSScriptRoot '../../target/test-output/partners'
}

AfterAll {
    Disconnect-MSCommerce -ErrorAction SilentlyContinue
    foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
    $env:MSCOMMERCE_SERVICE_URI = $savedServiceUri
    if ($http) { $http.Dispose() }
    if ($emulator) { Stop-TestEmulator -Emulator $emulator }
    if ($work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'Connect-MSCommerce -TenantId with a partner''s cached sign-in' {
    It 'connects to a customer''s tenant without a prompt, as the partner''s account' {
        Connect-MSCommerce -TenantId $adatum 6>$null
        $connection = Get-MSCommerceConnection
        '{0} {1} {2}' -f $connection.Flow, $connection.Account, $connection.TenantId |
            Should -BeExactly "TokenCache $partner $($tenantIds[$adatum])"
    }

    It 'keeps the account under its home tenant, so the next customer is silent too' {
        Connect-MSCommerce -TenantId $adatum 6>$null
        (Get-MSCommerceConnection).HomeTenantId | Should -BeExactly $partnerTenant
        Connect-MSCommerce -TenantId $litware 6>$null
        (Get-MSCommerceConnection).TenantId | Should -BeExactly $tenantIds[$litware]
    }

    It 'refuses a tenant the partner has no relationship with, naming it, without a browser' {
        { Connect-MSCommerce -TenantId contoso.onmicrosoft.com 6>$null } |
            Should -Throw -ExpectedMessage '*contoso.onmicrosoft.com*AADSTS50020*'
    }
}

Describe 'The service cmdlets in several tenants (-TenantId)' {
    BeforeAll {
        Connect-MSCommerce -TenantId treyresearch.onmicrosoft.com 6>$null
    }

    It 'Get-MSCommerceProductPolicies lists each tenant''s products, each naming its tenant' {
        Set-CustomerValue $litware Disabled
        try {
            $listed = Get-MSCommerceProductPolicies -PolicyId $policy -TenantId $customers
            $byTenant = $listed | Where-Object ProductId -EQ $product | ForEach-Object { '{0}={1}' -f $_.TenantId, $_.PolicyValue }
            $expected = $customers | ForEach-Object { '{0}={1}' -f $tenantIds[$_], (Get-CustomerValue $_) }
            ($byTenant -join ', ') | Should -BeExactly ($expected -join ', ')
        }
        finally { Set-CustomerValue $litware Enabled }
    }

    It 'lists every product of every tenant: the groups are the tenants'' own lists' {
        $listed = Get-MSCommerceProductPolicies -PolicyId $policy -TenantId $customers
        $groups = $listed | Group-Object TenantId | ForEach-Object { '{0}:{1}' -f $_.Name, $_.Count }
        $expected = $customers | ForEach-Object {
            $count = @((Invoke-TestService -Emulator $emulator -Token $customerTokens[$_] -Path "/policies/$policy/products").items).Count
            '{0}:{1}' -f $tenantIds[$_], $count
        }
        ($groups -join ', ') | Should -BeExactly ($expected -join ', ')
    }

    It 'a tenant that cannot be reached is one error aimed at it, while the others are listed' {
        $errors = $null
        $listed = Get-MSCommerceProductPolicy -PolicyId $policy -ProductId $product -TenantId $adatum, contoso.onmicrosoft.com -ErrorVariable errors -ErrorAction SilentlyContinue
        '{0} {1} {2}' -f @($listed).Count, $listed.TenantId, @($errors).Count | Should -BeExactly "1 $($tenantIds[$adatum]) 1"
        '{0} {1}' -f $errors[0].TargetObject, $errors[0].CategoryInfo.Category | Should -BeExactly 'contoso.onmicrosoft.com PermissionDenied'
    }

    It 'Get-MSCommerceConnection lists the tenants the connection holds tokens for' {
        $null = Get-MSCommercePolicies -TenantId $customers
        $tenants = (Get-MSCommerceConnection).Tenants
        $customers | ForEach-Object { $tenantIds[$_] } | Where-Object { $tenants -notcontains $_ } | Should -BeNullOrEmpty
    }

    It 'Update-MSCommerceProductPolicy -TenantId changes the product in each tenant' {
        try {
            $updated = Update-MSCommerceProductPolicy -PolicyId $policy -ProductId $product -Value Disabled -TenantId $adatum, $litware 6>$null
            '{0} {1} {2}' -f @($updated).Count, (Get-CustomerValue $adatum), (Get-CustomerValue $litware) | Should -BeExactly '2 Disabled Disabled'
        }
        finally {
            Set-CustomerValue $adatum Enabled
            Set-CustomerValue $litware Enabled
        }
    }

    It 'objects piped to Update-MSCommerceProductPolicy keep their tenant' {
        try {
            Get-MSCommerceProductPolicy -PolicyId $policy -ProductId $product -TenantId $litware |
                Update-MSCommerceProductPolicy -Value Disabled 6>$null
            '{0} {1}' -f (Get-CustomerValue $litware), (Get-CustomerValue $adatum) | Should -BeExactly 'Disabled Enabled'
        }
        finally { Set-CustomerValue $litware Enabled }
    }
}

Describe 'One baseline across three tenants' {
    BeforeAll {
        Connect-MSCommerce -TenantId treyresearch.onmicrosoft.com 6>$null
        $baseline = Join-Path $work 'baseline.json'
        Export-MSCommercePolicy -PolicyId $policy -Path $baseline -TenantId $adatum
    }

    BeforeEach {
        # Drift in two tenants: litware (which the partner may change) and tailspin (read only).
        Set-CustomerValue $litware Disabled
        Set-CustomerValue $tailspin Disabled
    }

    AfterEach {
        foreach ($customer in $customers) { Set-CustomerValue $customer Enabled }
    }

    It 'Test-MSCommercePolicy reports the drift per tenant, each drift naming its tenant' {
        $drift = Test-MSCommercePolicy -Path $baseline -TenantId $customers | Where-Object Id -EQ $product
        ($drift | ForEach-Object { '{0} {1} {2}' -f $_.TenantId, $_.Id, $_.CurrentValue }) -join ', ' |
            Should -BeExactly "$($tenantIds[$litware]) $product Disabled, $($tenantIds[$tailspin]) $product Disabled"
    }

    It 'Import-MSCommercePolicy puts back the tenants it may change, and the one without the role is one error aimed at it' {
        $errors = $null
        $null = Import-MSCommercePolicy -Path $baseline -TenantId $customers -ErrorVariable errors -ErrorAction SilentlyContinue 6>$null
        $values = $customers | ForEach-Object { Get-CustomerValue $_ }
        ($values -join ' ') | Should -BeExactly 'Enabled Enabled Disabled'
        '{0} {1} {2}' -f @($errors).Count, $errors[0].TargetObject, $errors[0].CategoryInfo.Category | Should -BeExactly "1 $tailspin PermissionDenied"
    }

    It 'Import-MSCommercePolicy -WhatIf names the tenant of each item and changes nothing' {
        $lines = Get-WhatIfLine { Import-MSCommercePolicy -Path $baseline -TenantId $customers -WhatIf 6>$null }
        ($lines | Where-Object { $_ -like "*$product*" }) -join "`n" | Should -BeLike "*in tenant $litware*in tenant $tailspin*"
        '{0} {1}' -f (Get-CustomerValue $litware), (Get-CustomerValue $tailspin) | Should -BeExactly 'Disabled Disabled'
    }
}

Describe 'Export-MSCommercePolicyReport' {
    BeforeAll {
        Connect-MSCommerce -TenantId treyresearch.onmicrosoft.com 6>$null
        $baseline = Join-Path $work 'report-baseline.json'
        Export-MSCommercePolicy -PolicyId $policy -Path $baseline -TenantId $adatum
        $baselineValues = @{}
        foreach ($item in (Invoke-TestService -Emulator $emulator -Token $customerTokens[$adatum] -Path "/policies/$policy/products").items) {
            $baselineValues[$item.productId] = $item.policyValue
        }
        Set-CustomerValue $litware Disabled
        $report = Join-Path $work 'report.html'
        $errors = $null
        Export-MSCommercePolicyReport -PolicyId $policy -TenantId ($customers + 'contoso.onmicrosoft.com') -BaselinePath $baseline -Path $report -ErrorVariable errors -ErrorAction SilentlyContinue
        $reportErrors = $errors
    }

    AfterAll {
        Set-CustomerValue $litware Enabled
    }

    It 'writes one self-contained page: no script, style or image from elsewhere' {
        $html = Get-Content -Raw -LiteralPath $report
        $html | Should -Not -Match '<(script|link|img)[^>]+(src|href)\s*=\s*"?(https?:)?//'
    }

    It 'reports the unreachable tenant as one error aimed at it' {
        '{0} {1}' -f @($reportErrors).Count, $reportErrors[0].TargetObject | Should -BeExactly '1 contoso.onmicrosoft.com'
    }

    It 'renders in headless Chromium, and its table is the service''s state with the drift marked' {
        $skip = Get-ChromiumSkipReason
        if ($skip) { Set-ItResult -Skipped -Because $skip; return }
        $cells = @(Read-HtmlReportInChromium -Path $report -OutputFolder $outputFolder)
        Test-Path -LiteralPath (Join-Path $outputFolder 'report.png') | Should -BeTrue
        $shown = $cells | Where-Object { $_.ProductId } | ForEach-Object { '{0}|{1}|{2}|{3}' -f $_.TenantId, $_.ProductId, $_.Value, $_.Drift } | Sort-Object
        $expected = foreach ($customer in $customers) {
            foreach ($item in (Invoke-TestService -Emulator $emulator -Token $customerTokens[$customer] -Path "/policies/$policy/products").items) {
                '{0}|{1}|{2}|{3}' -f $tenantIds[$customer], $item.productId, $item.policyValue, ($item.policyValue -ne $baselineValues[$item.productId])
            }
        }
        ($shown -join "`n") | Should -BeExactly (($expected | Sort-Object) -join "`n")
        ($cells | Where-Object { $_.Error }).TenantId | Should -BeExactly 'contoso.onmicrosoft.com'
    }
}
