#Requires -Version 5.1
<#
.SYNOPSIS
    Unattended sign-in: Connect-MSCommerce as an application (a client secret, a certificate
    loaded from a PFX file or found in the user's store, the environment's federated token) or as
    a managed identity, then the cmdlets run with the application's permission; an application
    without it is refused with what to grant; a failed sign-in keeps the connection there was.

.DESCRIPTION
    A Pester 5 file, self-contained: it starts its own emulator, registers the applications over
    its admin API and points the module at it ($env:MSCOMMERCE_SERVICE_URI and -AuthorityUri).
    The service's state is read over HTTP with a user token, not through the module.
#>

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSession.ps1')
    $authority = $emulator.ServiceUri
    $tenant = 'contoso.onmicrosoft.com'
    $readWrite = 'Policy.ReadWrite.AllowSelfServicePurchase'

    function Add-TestApp {
        param([Parameter(Mandatory)] [hashtable] $Body)
        Invoke-RestMethod -Method Post -Uri "$($emulator.AdminUri)/apps" -ContentType 'application/json' -Body ($Body | ConvertTo-Json -Depth 5 -Compress)
    }

    function New-TestCertificate {
        param([string] $Subject)
        $rsa = [System.Security.Cryptography.RSA]::Create(2048)
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
            $Subject, $rsa, [System.Security.Cryptography.HashAlgorithmName]::SHA256,
            [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddDays(-1), [DateTimeOffset]::UtcNow.AddDays(30))
    }

    # Secrets of 20 characters or more: the test run's secret scan looks for each in all output.
    $secret = 'rw-app-' + [guid]::NewGuid().ToString('N')
    $readerSecret = 'read-app-' + [guid]::NewGuid().ToString('N')
    $noRoleSecret = 'no-role-app-' + [guid]::NewGuid().ToString('N')
    $writer = Add-TestApp @{ displayName = 'Policy automation'; tenant = $tenant; roles = @($readWrite); secrets = @($secret) }
    $reader = Add-TestApp @{ displayName = 'Policy report'; tenant = $tenant; roles = @('Policy.Read.AllowSelfServicePurchase'); secrets = @($readerSecret) }
    $noRole = Add-TestApp @{ displayName = 'Unconsented tool'; tenant = $tenant; roles = @(); secrets = @($noRoleSecret) }

    $certificate = New-TestCertificate 'CN=MSCommerce unattended test'
    $certificatePem = "-----BEGIN CERTIFICATE-----`n" + [Convert]::ToBase64String($certificate.RawData, 'InsertLineBreaks') + "`n-----END CERTIFICATE-----"
    $certificateApp = Add-TestApp @{ displayName = 'Policy automation (certificate)'; tenant = $tenant; roles = @($readWrite); certificates = @($certificatePem) }
    $pfxPassword = [guid]::NewGuid().ToString('N')
    $pfxPath = Join-Path $TestDrive 'automation.pfx'
    [IO.File]::WriteAllBytes($pfxPath, $certificate.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pfx, $pfxPassword))

    $subject = 'repo:contoso/policies:ref:refs/heads/main'
    $federatedApp = Add-TestApp @{ displayName = 'Policy pipeline'; tenant = $tenant; roles = @($readWrite); federatedCredentials = @(@{ subject = $subject }) }
    $identityApp = Add-TestApp @{ displayName = 'Policy runbook'; tenant = $tenant; roles = @($readWrite); managedIdentity = 'system' }
    $identity = Invoke-RestMethod -Uri "$($emulator.AdminUri)/identity"

    $credential = [pscredential]::new($writer.appId, (ConvertTo-SecureString $secret -AsPlainText -Force))
}

AfterAll {
    Disconnect-MSCommerce -ErrorAction SilentlyContinue
    $env:MSCOMMERCE_SERVICE_URI = $savedServiceUri
    if ($emulator) { Stop-TestEmulator -Emulator $emulator }
}

Describe 'An application with a client secret' {
    BeforeAll {
        Connect-MSCommerce -ClientSecretCredential $credential -TenantId $tenant -AuthorityUri $authority 6>$null
        $connection = Get-MSCommerceConnection
    }
    AfterAll {
        Disconnect-MSCommerce
        Reset-TestTenant -Emulator $emulator -Token $adminToken
    }

    It 'is connected as AppOnly with its app id and tenant, and no account' {
        ($connection.Connected, $connection.AuthType, $connection.AppId, $connection.Account) -join ',' | Should -BeExactly "True,AppOnly,$($writer.appId),"
        $connection.TenantId | Should -Not -BeNullOrEmpty
    }

    It 'shows when its token expires' {
        $connection.ExpiresOn | Should -BeGreaterThan ([DateTimeOffset]::UtcNow)
    }

    It 'updates a product with the application permission' {
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Disabled 6>$null
        Get-TestServiceValue -Emulator $emulator -Token $adminToken CFQ7TTC0H9MP | Should -BeExactly 'Disabled'
    }

    It 'runs the documentation''s example script unchanged' {
        $product = Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase | Where-Object { $_.ProductName -match 'Power Automate per user' }
        Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId $product.ProductID -Value "Disabled" 6>$null
        Get-TestServiceValue -Emulator $emulator -Token $adminToken $product.ProductID | Should -BeExactly 'Disabled'
    }
}

Describe 'A run longer than the application''s token lives' {
    BeforeAll {
        $settings = "$($emulator.AdminUri)/settings"
        $null = Invoke-RestMethod -Method Put -Uri $settings -ContentType 'application/json' -Body '{"appTokenLifetimeSeconds": 4}'
        Connect-MSCommerce -ClientSecretCredential $credential -TenantId $tenant -AuthorityUri $authority 6>$null
        $first = (Get-MSCommerceConnection).ExpiresOn
        # Past the first token's lifetime: the next call needs a new token.
        Start-Sleep -Seconds 5
        $policies = @(Get-MSCommercePolicies)
        $renewed = (Get-MSCommerceConnection).ExpiresOn
    }
    AfterAll {
        Disconnect-MSCommerce
        $null = Invoke-RestMethod -Method Put -Uri $settings -ContentType 'application/json' -Body '{"appTokenLifetimeSeconds": 3600}'
    }

    It 'goes on: the call after the token expired succeeds' {
        $policies.PolicyId | Should -Contain 'AllowSelfServicePurchase'
    }

    It 'fetched a new token from the credential on its own' {
        $renewed | Should -BeGreaterThan $first
    }
}

Describe 'An application with a certificate' {
    AfterEach {
        Disconnect-MSCommerce
    }

    It 'signs in with a certificate loaded from a PFX file' {
        $loaded = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfxPath, $pfxPassword)
        Connect-MSCommerce -ClientId $certificateApp.appId -TenantId $tenant -Certificate $loaded -AuthorityUri $authority 6>$null
        $connection = Get-MSCommerceConnection
        ($connection.AuthType, $connection.AppId, $connection.CertificateThumbprint) -join ',' | Should -BeExactly "AppOnly,$($certificateApp.appId),$($certificate.Thumbprint)"
        @(Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase).Count | Should -BeGreaterThan 0
    }

    Context 'in the current user''s store' {
        BeforeAll {
            $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
            $store.Open('ReadWrite')
            $stored = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfxPath, $pfxPassword, 'PersistKeySet, Exportable')
            $store.Add($stored)
        }
        AfterAll {
            $store.Remove($stored)
            $store.Close()
        }

        It 'signs in with -CertificateThumbprint' {
            Connect-MSCommerce -ClientId $certificateApp.appId -TenantId $tenant -CertificateThumbprint $certificate.Thumbprint -AuthorityUri $authority 6>$null
            (Get-MSCommerceConnection).CertificateThumbprint | Should -BeExactly $certificate.Thumbprint
        }

        It 'signs in with -CertificateName' {
            Connect-MSCommerce -ClientId $certificateApp.appId -TenantId $tenant -CertificateName 'CN=MSCommerce unattended test' -AuthorityUri $authority 6>$null
            (Get-MSCommerceConnection).AuthType | Should -BeExactly 'AppOnly'
        }
    }

    It 'is an ObjectNotFound error naming the thumbprint and the stores when no store holds it' {
        $missing = 'ABCDEF0123456789ABCDEF0123456789ABCDEF01'
        Connect-MSCommerce -ClientId $certificateApp.appId -TenantId $tenant -CertificateThumbprint $missing -AuthorityUri $authority -ErrorAction SilentlyContinue -ErrorVariable failures 6>$null
        "$($failures[0].CategoryInfo.Category)" | Should -BeExactly 'ObjectNotFound'
        $failures[0].TargetObject | Should -BeExactly $missing
        $failures[0].Exception.Message | Should -BeLike "*$missing*CurrentUser*LocalMachine*"
    }

    It 'is refused before anything is sent when the certificate has no private key' {
        $publicOnly = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($certificate.RawData)
        Connect-MSCommerce -ClientId $certificateApp.appId -TenantId $tenant -Certificate $publicOnly -AuthorityUri $authority -ErrorAction SilentlyContinue -ErrorVariable failures 6>$null
        $failures[0].Exception.Message | Should -BeLike 'Unable to establish connection*private key*'
        (Get-MSCommerceConnection).Connected | Should -BeFalse
    }
}

Describe 'A workload identity (the environment''s federated token)' {
    BeforeAll {
        $minted = Invoke-RestMethod -Method Post -Uri "$($emulator.AdminUri)/federated-tokens" -ContentType 'application/json' -Body (@{ subject = $subject } | ConvertTo-Json -Compress)
        $tokenFile = Join-Path $TestDrive 'federated-token'
        Set-Content -LiteralPath $tokenFile -Value $minted.token -NoNewline
        $env:AZURE_CLIENT_ID = $federatedApp.appId
        $env:AZURE_TENANT_ID = $tenant
        $env:AZURE_FEDERATED_TOKEN_FILE = $tokenFile
        Connect-MSCommerce -EnvironmentVariable -AuthorityUri $authority 6>$null
    }
    AfterAll {
        Disconnect-MSCommerce
        Remove-Item Env:AZURE_CLIENT_ID, Env:AZURE_TENANT_ID, Env:AZURE_FEDERATED_TOKEN_FILE -ErrorAction SilentlyContinue
    }

    It 'is connected as WorkloadIdentity with the app id of AZURE_CLIENT_ID' {
        $connection = Get-MSCommerceConnection
        ($connection.AuthType, $connection.AppId) -join ',' | Should -BeExactly "WorkloadIdentity,$($federatedApp.appId)"
    }

    It 'reads the policies' {
        (Get-MSCommercePolicies).PolicyId | Should -Contain 'AllowSelfServicePurchase'
    }
}

Describe 'A managed identity (App Service style endpoint)' {
    BeforeAll {
        $env:IDENTITY_ENDPOINT = $identity.identityEndpoint
        $env:IDENTITY_HEADER = $identity.identityHeader
        Connect-MSCommerce -Identity 6>$null
    }
    AfterAll {
        Disconnect-MSCommerce
        Remove-Item Env:IDENTITY_ENDPOINT, Env:IDENTITY_HEADER -ErrorAction SilentlyContinue
        Reset-TestTenant -Emulator $emulator -Token $adminToken
    }

    It 'is connected as ManagedIdentity' {
        (Get-MSCommerceConnection).AuthType | Should -BeExactly 'ManagedIdentity'
    }

    It 'updates an offer type' {
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -OfferType SaaS -Value Disabled 6>$null
        (Get-TestServiceItem -Emulator $emulator -Token $adminToken -OfferType | Where-Object scopeId -eq 'SaaS').policyValue | Should -BeExactly 'Disabled'
    }
}

Describe 'No managed identity on this machine' {
    It 'fails with a clear error, fast, and sends nothing off this machine' {
        # A closed loopback port stands for the instance metadata endpoint.
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
        $env:AZURE_POD_IDENTITY_AUTHORITY_HOST = "http://127.0.0.1:$port"
        try {
            $elapsed = Measure-Command {
                Connect-MSCommerce -Identity -ErrorAction SilentlyContinue -ErrorVariable failures 6>$null
            }
        }
        finally { Remove-Item Env:AZURE_POD_IDENTITY_AUTHORITY_HOST }
        $failures[0].Exception.Message | Should -BeLike 'Unable to establish connection*'
        $elapsed.TotalSeconds | Should -BeLessThan 30
    }
}

Describe 'Permissions and failures' {
    AfterEach {
        Disconnect-MSCommerce
    }

    It 'an application with only the read permission reads, and its update is refused naming the permission to grant' {
        $readOnly = [pscredential]::new($reader.appId, (ConvertTo-SecureString $readerSecret -AsPlainText -Force))
        Connect-MSCommerce -ClientSecretCredential $readOnly -TenantId $tenant -AuthorityUri $authority 6>$null
        @(Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase).Count | Should -BeGreaterThan 0
        $null = Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0H9MP -Value Disabled -ErrorAction SilentlyContinue -ErrorVariable failures 6>$null
        $failures[0].Exception.Message | Should -BeLike '*needs the application permission Policy.ReadWrite.AllowSelfServicePurchase*administrator''s consent*'
        Get-TestServiceValue -Emulator $emulator -Token $adminToken CFQ7TTC0H9MP | Should -BeExactly 'Enabled'
    }

    It 'an application without a permission is refused a read with 403, naming the permission' {
        $none = [pscredential]::new($noRole.appId, (ConvertTo-SecureString $noRoleSecret -AsPlainText -Force))
        Connect-MSCommerce -ClientSecretCredential $none -TenantId $tenant -AuthorityUri $authority 6>$null
        $null = Get-MSCommercePolicies -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures[0].Exception.Message | Should -BeLike '*403*needs the application permission Policy.Read.AllowSelfServicePurchase*'
    }

    It 'a wrong secret relays the authority''s AADSTS code and keeps the connection there was' {
        Connect-MSCommerce -ClientSecretCredential $credential -TenantId $tenant -AuthorityUri $authority 6>$null
        $wrong = [pscredential]::new($writer.appId, (ConvertTo-SecureString ('wrong-' + [guid]::NewGuid().ToString('N')) -AsPlainText -Force))
        Connect-MSCommerce -ClientSecretCredential $wrong -TenantId $tenant -AuthorityUri $authority -ErrorAction SilentlyContinue -ErrorVariable failures 6>$null
        $failures[0].Exception.Message | Should -BeLike 'Unable to establish connection*AADSTS7000215*'
        (Get-MSCommerceConnection).AppId | Should -BeExactly $writer.appId
    }

    It 'an unknown application is refused with AADSTS700016' {
        $unknown = [pscredential]::new([guid]::NewGuid().ToString(), (ConvertTo-SecureString $secret -AsPlainText -Force))
        Connect-MSCommerce -ClientSecretCredential $unknown -TenantId $tenant -AuthorityUri $authority -ErrorAction SilentlyContinue -ErrorVariable failures 6>$null
        $failures[0].Exception.Message | Should -BeLike '*AADSTS700016*'
    }

    It 'never leaves the secret in a PowerShell variable the test did not make' {
        $leaks = Get-Variable | Where-Object { $_.Name -notin 'secret', 'readerSecret', 'noRoleSecret', 'credential', 'readOnly', 'none', 'wrong', 'unknown' -and "$($_.Value)" -like "*$secret*" }
        $leaks | Should -BeNullOrEmpty
    }
}

Describe 'The examples of docs/unattended.md, as written there' {
    BeforeAll {
        $doc = Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot '../../docs/unattended.md')
        function Get-DocExample {
            param([Parameter(Mandatory)] [string] $Name)
            $found = [regex]::Match($doc, '<!-- tested: ' + [regex]::Escape($Name) + ' -->\s*```powershell\r?\n(?<code>.*?)```', 'Singleline')
            if (-not $found.Success) { throw "docs/unattended.md has no example '$Name'." }
            $found.Groups['code'].Value
        }

        # A baseline of the tenant as the admin wants it (every product allowed, new products
        # blocked) in $Folder, then drift: Power BI Pro blocked by hand, and a product added.
        function New-ExampleTenant {
            param([Parameter(Mandatory)] [string] $Folder)
            $null = New-Item -ItemType Directory -Path $Folder -Force
            Reset-TestTenant -Emulator $emulator -Token $adminToken
            Export-MSCommercePolicy -PolicyId AllowSelfServicePurchase -Path (Join-Path $Folder 'self-service.json') -NewProducts Disabled -Token $adminToken
            Set-TestServiceValue -Emulator $emulator -Token $adminToken -ProductId CFQ7TTC0H9MP -Value Disabled
            $before = @((Get-TestServiceItem -Emulator $emulator -Token $adminToken).productId)
            # Generated products are numbered from 1: one more than there are adds one.
            $generated = @($before | Where-Object { $_ -like 'CFQ7TTC0BULK*' }).Count
            $null = Add-TestProduct -Emulator $emulator -Count ($generated + 1)
            @((Get-TestServiceItem -Emulator $emulator -Token $adminToken).productId | Where-Object { $_ -notin $before })[0]
        }

        $savedAuthority = $env:MSCOMMERCE_AUTHORITY_URI
        $env:MSCOMMERCE_AUTHORITY_URI = $authority
    }
    AfterAll {
        $env:MSCOMMERCE_AUTHORITY_URI = $savedAuthority
        Disconnect-MSCommerce
        Reset-TestTenant -Emulator $emulator -Token $adminToken
    }
    AfterEach {
        Disconnect-MSCommerce
    }

    Context 'the cron job with a certificate' {
        BeforeAll {
            $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
            $store.Open('ReadWrite')
            $stored = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfxPath, $pfxPassword, 'PersistKeySet')
            $store.Add($stored)
            $folder = Join-Path $TestDrive 'cron'
            $newProduct = New-ExampleTenant -Folder $folder
            $script = Join-Path $folder 'Set-SelfServicePolicy.ps1'
            Set-Content -LiteralPath $script -Value (Get-DocExample 'cron-certificate')
            $env:POLICY_APP_ID = $certificateApp.appId
            $env:POLICY_TENANT = $tenant
            $env:POLICY_CERT_THUMBPRINT = $certificate.Thumbprint
            $null = & $script 6>$null
        }
        AfterAll {
            $store.Remove($stored)
            $store.Close()
            Remove-Item Env:POLICY_APP_ID, Env:POLICY_TENANT, Env:POLICY_CERT_THUMBPRINT -ErrorAction SilentlyContinue
        }

        It 'sets back the product that drifted' {
            Get-TestServiceValue -Emulator $emulator -Token $adminToken CFQ7TTC0H9MP | Should -BeExactly 'Enabled'
        }

        It 'blocks the product added since the baseline' {
            Get-TestServiceValue -Emulator $emulator -Token $adminToken $newProduct | Should -BeExactly 'Disabled'
        }
    }

    Context 'the Azure Automation runbook with its managed identity' {
        BeforeAll {
            $newProduct = New-ExampleTenant -Folder (Join-Path $TestDrive 'runbook')
            $baselineJson = Get-Content -Raw -LiteralPath (Join-Path $TestDrive 'runbook/self-service.json')
            # What Azure Automation gives a runbook: its identity endpoint and its variables.
            function Get-AutomationVariable { param([string] $Name) if ($Name -eq 'SelfServiceBaseline') { $baselineJson } }
            $env:IDENTITY_ENDPOINT = $identity.identityEndpoint
            $env:IDENTITY_HEADER = $identity.identityHeader
            $output = & ([scriptblock]::Create((Get-DocExample 'automation-runbook'))) 6>$null
        }
        AfterAll {
            Remove-Item Env:IDENTITY_ENDPOINT, Env:IDENTITY_HEADER -ErrorAction SilentlyContinue
        }

        It 'sets back the product that drifted and blocks the new one' {
            Get-TestServiceValue -Emulator $emulator -Token $adminToken CFQ7TTC0H9MP | Should -BeExactly 'Enabled'
            Get-TestServiceValue -Emulator $emulator -Token $adminToken $newProduct | Should -BeExactly 'Disabled'
        }

        It 'writes the updated items to the job''s output' {
            "$output" | Should -BeLike "*$newProduct*"
        }
    }

    Context 'the GitHub Actions script with a federated token' {
        BeforeAll {
            $folder = Join-Path $TestDrive 'repository/policy'
            $newProduct = New-ExampleTenant -Folder $folder
            $script = Join-Path $folder 'Apply-Baseline.ps1'
            Set-Content -LiteralPath $script -Value (Get-DocExample 'github-actions')
            $minted = Invoke-RestMethod -Method Post -Uri "$($emulator.AdminUri)/federated-tokens" -ContentType 'application/json' -Body (@{ subject = $subject } | ConvertTo-Json -Compress)
            $tokenFile = Join-Path $TestDrive 'oidc-token'
            Set-Content -LiteralPath $tokenFile -Value $minted.token -NoNewline
            $env:AZURE_CLIENT_ID = $federatedApp.appId
            $env:AZURE_TENANT_ID = $tenant
            $env:AZURE_FEDERATED_TOKEN_FILE = $tokenFile
            $output = @(& $script 6>$null)
        }
        AfterAll {
            Remove-Item Env:AZURE_CLIENT_ID, Env:AZURE_TENANT_ID, Env:AZURE_FEDERATED_TOKEN_FILE -ErrorAction SilentlyContinue
        }

        It 'reports the drift it found: the product set by hand and the new one' {
            $output[0] | Should -BeExactly '2 items differ from the baseline'
        }

        It 'sets back the product that drifted and blocks the new one' {
            Get-TestServiceValue -Emulator $emulator -Token $adminToken CFQ7TTC0H9MP | Should -BeExactly 'Enabled'
            Get-TestServiceValue -Emulator $emulator -Token $adminToken $newProduct | Should -BeExactly 'Disabled'
        }
    }
}
