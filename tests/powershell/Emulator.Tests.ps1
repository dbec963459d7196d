#Requires -Version 5.1
<#
.SYNOPSIS
    The emulator driven by a client this project did not write: the calls and the item logic of
    Microsoft's original MSCommerce module, and Microsoft365DSC's write under /v1/.

.DESCRIPTION
    A Pester 5 file. It needs only the emulator binary, in $env:MSCOMMERCE_EMULATOR (set by the
    runner, `cargo xtask test`), not the module. Like the original it calls Invoke-RestMethod and
    Invoke-WebRequest with `Authorization: Bearer <token>` and a new `x-ms-correlation-id`, and
    turns each listed item into an object with ProductId/ProductName only when `scope -eq
    "product"`, else with ScopeId/ScopeValue/Scope. Everything goes to the emulator on loopback.
    No token is ever written to the output: the run's transcript is scanned for issued secrets.
#>

BeforeAll {
    $ErrorActionPreference = 'Stop'
    Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force

    $emulator = Start-TestEmulator
    $base = $emulator.ServiceUri.TrimEnd('/')
    if (([uri] $base).Host -notin '127.0.0.1', 'localhost', '::1', '[::1]') {
        throw "The emulator is not on loopback ('$base')."
    }
    $policyId = 'AllowSelfServicePurchase'
    # Power Automate per user, the product of the documentation's example script.
    $powerAutomate = 'CFQ7TTC0LH3L'
    # Kept in a script variable only: never written to the output.
    $script:token = New-TestToken -Emulator $emulator

    # The headers the original sends on every call.
    function Get-Headers {
        @{
            Authorization          = "Bearer $script:token"
            'x-ms-correlation-id' = [guid]::NewGuid().ToString()
        }
    }

    # A GET as the original makes it; the parsed body.
    function Invoke-ServiceGet([string] $Path) {
        Invoke-RestMethod -Method Get -Uri "$base$Path" -Headers (Get-Headers) -UseBasicParsing
    }

    # A PUT of {"policyValue": ...}, as the original and Microsoft365DSC make it; the parsed body.
    function Invoke-ServicePut([string] $Path, [string] $Value) {
        $body = @{ policyValue = $Value } | ConvertTo-Json -Compress
        Invoke-RestMethod -Method Put -Uri "$base$Path" -Headers (Get-Headers) -Body $body -ContentType 'application/json' -UseBasicParsing
    }

    # The status and parsed error body of a request that fails, on either edition.
    function Get-ServiceError([string] $Method, [string] $Path) {
        try {
            $null = Invoke-WebRequest -Method $Method -Uri "$base$Path" -Headers (Get-Headers) -UseBasicParsing
        } catch {
            return [pscustomobject]@{
                Status = [int] $_.Exception.Response.StatusCode
                Body   = $_.ErrorDetails.Message | ConvertFrom-Json
            }
        }
        throw "$Method $Path did not fail."
    }

    # The original's logic for one item: a product only when its scope says so.
    function ConvertTo-OriginalItem {
        param([Parameter(ValueFromPipeline)] $Item)
        process {
            if ($Item.scope -eq 'product') {
                New-Object PSObject -Property @{
                    PolicyId    = $Item.policyId
                    PolicyValue = $Item.policyValue
                    ProductName = $Item.productName
                    ProductId   = $Item.productId
                }
            } else {
                New-Object PSObject -Property @{
                    PolicyId    = $Item.policyId
                    PolicyValue = $Item.policyValue
                    ScopeId     = $Item.scopeId
                    ScopeValue  = $Item.scopeValue
                    Scope       = $Item.scope
                }
            }
        }
    }

    # Get-MSCommerceProductPolicies as the original does it.
    function Get-OriginalProductPolicies([string] $Scope = 'product', [string] $Prefix = '/v1.0') {
        (Invoke-ServiceGet "$Prefix/policies/$policyId/products?scope=$Scope").items | ConvertTo-OriginalItem
    }
}

AfterAll {
    if ($emulator) { Stop-TestEmulator -Emulator $emulator }
}

Describe 'Listing as the original module does' {
    It 'answers every product item with scope product, a product id and a name' {
        $items = @((Invoke-ServiceGet "/v1.0/policies/$policyId/products?scope=product").items)
        $items.Count | Should -Be 17
        foreach ($item in $items) {
            $item.scope | Should -BeExactly 'product'
            $item.productId | Should -Not -BeNullOrEmpty
            $item.productName | Should -Not -BeNullOrEmpty
        }
    }

    It 'answers the same items without a scope and under /v1/' {
        $reference = (Invoke-ServiceGet "/v1.0/policies/$policyId/products?scope=product").items | ConvertTo-Json -Depth 5
        (Invoke-ServiceGet "/v1.0/policies/$policyId/products").items | ConvertTo-Json -Depth 5 | Should -BeExactly $reference
        (Invoke-ServiceGet "/v1/policies/$policyId/products?scope=product").items | ConvertTo-Json -Depth 5 | Should -BeExactly $reference
    }

    It 'turns every listed product into an object with ProductId and ProductName' {
        $products = @(Get-OriginalProductPolicies)
        $products.Count | Should -Be 17
        foreach ($product in $products) {
            $product.ProductId | Should -Match '^CFQ7TTC0'
            $product.ProductName | Should -Not -BeNullOrEmpty
            $product.PSObject.Properties.Name | Should -Not -Contain 'Scope'
        }
    }

    It "finds the documentation's 'Power Automate per user' with the example script's filter" {
        $product = Get-OriginalProductPolicies | where { $_.ProductName -match 'Power Automate per user' }
        @($product).Count | Should -Be 1
        $product.ProductID | Should -BeExactly $powerAutomate
        $product.PolicyValue | Should -BeExactly 'Enabled'
    }

    It 'turns offer types into objects with ScopeId, ScopeValue and Scope' {
        $offerTypes = @(Get-OriginalProductPolicies -Scope OfferType)
        ($offerTypes.ScopeId | Sort-Object) -join ',' | Should -BeExactly 'DYNAMICSBC,DYNAMICSCE,POWERBIVISUALS,SaaS'
        foreach ($offerType in $offerTypes) {
            $offerType.Scope | Should -BeExactly 'OfferType'
            $offerType.ScopeValue | Should -Not -BeNullOrEmpty
            $offerType.PSObject.Properties.Name | Should -Not -Contain 'ProductId'
        }
    }
}

Describe 'One item under /v1.0/ and /v1/' {
    It 'answers one product with scope product under both prefixes' {
        foreach ($prefix in '/v1.0', '/v1') {
            $response = Invoke-WebRequest -Method Get -Uri "$base$prefix/policies/$policyId/products/$powerAutomate" -Headers (Get-Headers) -UseBasicParsing
            $response.StatusCode | Should -Be 200
            $item = $response.Content | ConvertFrom-Json
            $item.scope | Should -BeExactly 'product'
            ($item | ConvertTo-OriginalItem).ProductName | Should -BeExactly 'Power Automate per user'
        }
    }

    It 'answers one offer type with its scope fields under both prefixes' {
        foreach ($prefix in '/v1.0', '/v1') {
            $item = Invoke-ServiceGet "$prefix/policies/$policyId/offerTypes/SaaS"
            $item.scope | Should -BeExactly 'OfferType'
            $item.scopeId | Should -BeExactly 'SaaS'
            $item.scopeValue | Should -BeExactly 'Software as a Service'
        }
    }

    It 'answers an unknown product with a 404 Unknown under /v1/' {
        $failure = Get-ServiceError Get "/v1/policies/$policyId/products/CFQ7TTC0XXXX"
        $failure.Status | Should -Be 404
        $failure.Body.errorCode | Should -BeExactly 'Unknown'
        $failure.Body.reason | Should -BeExactly "Product 'CFQ7TTC0XXXX' was not found."
    }

    It 'answers an unknown scope with the service''s 400 under /v1/' {
        $failure = Get-ServiceError Get "/v1/policies/$policyId/products?scope=Tenant"
        $failure.Status | Should -Be 400
        $failure.Body.errorCode | Should -BeExactly 'BadRequest'
        $failure.Body.reason | Should -BeExactly 'Invalid scope.'
    }
}

Describe 'Updating under /v1/ as Microsoft365DSC does' {
    AfterAll {
        $null = Invoke-ServicePut "/v1.0/policies/$policyId/products/$powerAutomate" 'Enabled'
    }

    It 'disables Power Automate per user and answers the updated product item' {
        $updated = Invoke-ServicePut "/v1/policies/$policyId/products/$powerAutomate" 'Disabled'
        $updated.scope | Should -BeExactly 'product'
        $updated.productId | Should -BeExactly $powerAutomate
        $updated.policyValue | Should -BeExactly 'Disabled'
    }

    It 'reads the change back under /v1.0/, one item and in the original''s list' {
        (Invoke-ServiceGet "/v1.0/policies/$policyId/products/$powerAutomate").policyValue | Should -BeExactly 'Disabled'
        $product = Get-OriginalProductPolicies | where { $_.ProductName -match 'Power Automate per user' }
        $product.ProductID | Should -BeExactly $powerAutomate
        $product.PolicyValue | Should -BeExactly 'Disabled'
    }
}
