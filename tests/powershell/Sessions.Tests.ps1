#Requires -Version 5.1
<#
.SYNOPSIS
    Connections: Disconnect-MSCommerce, no PowerShell variable holding the token, each runspace of
    a process with its own connection (hosted runspaces and ForEach-Object -Parallel on two
    tenants), and importing and removing the module without leaking threads.

.DESCRIPTION
    A Pester 5 file, self-contained: it starts its own emulator, points the module at it with
    $env:MSCOMMERCE_SERVICE_URI and imports the module from $env:MSCOMMERCE_MODULE_DIR. The
    connections are made in runspaces of their own, so this file's runspace stays unconnected.
    Tokens reach the runspaces as script arguments or through an environment variable removed
    afterwards; none is ever written to the output.
#>

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSession.ps1')

    $notConnected = 'You must call the Connect-MSCommerce cmdlet before calling any other cmdlets'

    # A runspace of its own with the module imported and connected with $Token. The token is a
    # script argument in a local scope, so no variable of the runspace keeps it.
    function New-ConnectedRunspace([string] $Token) {
        $ps = [powershell]::Create()
        $null = $ps.AddScript("param(`$t) Import-Module '$manifest' 6>`$null; Connect-MSCommerce -AccessToken `$t 6>`$null", $true).AddArgument($Token).Invoke()
        if ($ps.Streams.Error.Count) {
            $message = $ps.Streams.Error[0].Exception.Message
            $ps.Dispose()
            throw "Connect-MSCommerce failed in a new runspace: $message"
        }
        $ps.Commands.Clear()
        $ps
    }

    # Runs $Script in $Runspace and returns its output.
    function Invoke-InRunspace($Runspace, [string] $Script) {
        $Runspace.Commands.Clear()
        $Runspace.Streams.ClearStreams()
        $Runspace.AddScript($Script).Invoke()
    }
}

AfterAll {
    Disconnect-MSCommerce -ErrorAction SilentlyContinue
    $env:MSCOMMERCE_SERVICE_URI = $savedServiceUri
    if ($emulator) { Stop-TestEmulator -Emulator $emulator }
}

Describe 'Disconnect-MSCommerce' {
    It 'ends the session: the next call needs a connection again' {
        $ps = New-ConnectedRunspace $adminToken
        try {
            @(Invoke-InRunspace $ps 'Get-MSCommercePolicies').Count | Should -Be 1 -Because 'the runspace is connected before Disconnect-MSCommerce'
            $after = Invoke-InRunspace $ps "Disconnect-MSCommerce; try { `$null = Get-MSCommercePolicies; 'still connected' } catch { `$_.Exception.Message }"
            "$after" | Should -BeExactly $notConnected
        }
        finally { $ps.Dispose() }
    }
}

Describe 'The token after Connect-MSCommerce' {
    It 'is held by no PowerShell variable (the original kept it in $token)' {
        $ps = [powershell]::Create()
        $env:MSCOMMERCE_TEST_TOKEN = $adminToken
        try {
            # The token is read from the environment inline, so no variable of the script holds it
            # unless the module put it in one.
            $null = $ps.AddScript("Import-Module '$manifest' 6>`$null; Connect-MSCommerce -AccessToken (Get-Item env:MSCOMMERCE_TEST_TOKEN).Value 6>`$null; `$null = Get-MSCommercePolicies; Get-Variable | Where-Object { (`$_.Value | Out-String) -like ('*' + `$env:MSCOMMERCE_TEST_TOKEN + '*') } | ForEach-Object Name")
            $holders = @($ps.Invoke())
            $ps.Streams.Error.Count | Should -Be 0 -Because 'the connection and the call succeed'
            $holders -join ',' | Should -BeExactly '' -Because 'these variables hold the token'
        }
        finally {
            $ps.Dispose()
            Remove-Item env:MSCOMMERCE_TEST_TOKEN
        }
    }
}

Describe 'Two runspaces of one process' {
    BeforeAll {
        $readerToken = New-TestToken -Emulator $emulator -User 'reader@contoso.onmicrosoft.com'
        # The admin connects first, the reader second: a shared connection would act as the reader.
        $admin = New-ConnectedRunspace $adminToken
        $reader = New-ConnectedRunspace $readerToken
        $update = "Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Disabled -ErrorAction SilentlyContinue -ErrorVariable failures 6>`$null | Out-Null; if (`$failures) { `$failures[0].CategoryInfo.Category.ToString() } else { 'changed' }"
    }
    AfterAll {
        $admin.Dispose()
        $reader.Dispose()
    }
    AfterEach {
        Reset-TestTenant -Emulator $emulator -Token $adminToken
    }

    It 'the reader''s runspace acts as the reader: its change is PermissionDenied' {
        "$(Invoke-InRunspace $reader $update)" | Should -BeExactly 'PermissionDenied'
        Get-TestServiceValue -Emulator $emulator -Token $adminToken CFQ7TTC0H9MP | Should -BeExactly 'Enabled'
    }

    It 'the admin''s runspace acts as the admin: its change is made' {
        "$(Invoke-InRunspace $admin $update)" | Should -BeExactly 'changed'
        Get-TestServiceValue -Emulator $emulator -Token $adminToken CFQ7TTC0H9MP | Should -BeExactly 'Disabled'
    }
}

Describe 'ForEach-Object -Parallel' -Skip:($PSVersionTable.PSVersion.Major -lt 7) {
    BeforeAll {
        $tokens = @{
            contoso  = $adminToken
            fabrikam = New-TestToken -Emulator $emulator -User 'admin@fabrikam.onmicrosoft.com' -Tenant 'fabrikam.onmicrosoft.com'
        }
        # The same product differs between the tenants, so each runspace sees which one it is on.
        Set-TestServiceValue -Emulator $emulator -Token $tokens.contoso -ProductId CFQ7TTC0H9MP -Value Disabled
        Set-TestServiceValue -Emulator $emulator -Token $tokens.fabrikam -ProductId CFQ7TTC0H9MP -Value Enabled
    }
    AfterAll {
        Reset-TestTenant -Emulator $emulator -Token $tokens.contoso
        Reset-TestTenant -Emulator $emulator -Token $tokens.fabrikam
    }

    It '8 runspaces on two tenants each see only their own account and tenant, 10 times over' {
        $results = 1..8 | ForEach-Object -ThrottleLimit 8 -Parallel {
            $tenant = if ($_ % 2) { 'contoso' } else { 'fabrikam' }
            Import-Module $using:manifest 6>$null
            Connect-MSCommerce -AccessToken ($using:tokens)[$tenant] 6>$null
            foreach ($round in 1..10) {
                $account = (Get-MSCommerceConnection).Account
                $value = (Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP).PolicyValue
                "$tenant|$account|$value"
            }
        } 6>$null
        @($results).Count | Should -Be 80
        $wrong = foreach ($line in $results) {
            $tenant, $account, $value = $line -split '\|'
            $expected = if ($tenant -eq 'contoso') { 'Disabled' } else { 'Enabled' }
            if ($account -ne "admin@$tenant.onmicrosoft.com" -or $value -ne $expected) { $line }
        }
        @($wrong) | Should -BeNullOrEmpty -Because 'each answer is tenant|account|value of its own runspace'
    }
}

Describe 'Importing and removing the module' {
    It 'leaks no threads over 20 cycles, each with a call' {
        $threads = { (Get-Process -Id $PID).Threads.Count }
        Remove-Module MSCommerce -ErrorAction SilentlyContinue
        Import-Module $manifest -Force 6>$null
        $null = Get-MSCommercePolicies -Token $adminToken
        $before = & $threads
        foreach ($i in 1..20) {
            Remove-Module MSCommerce
            Import-Module $manifest -Force 6>$null
            $null = Get-MSCommercePolicies -Token $adminToken
        }
        [GC]::Collect(); [GC]::WaitForPendingFinalizers()
        $after = & $threads
        $after | Should -BeLessOrEqual ($before + 4) -Because "the process had $before threads before the 20 imports"
    }
}
