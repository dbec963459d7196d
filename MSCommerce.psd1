#
# Module manifest for MSCommerce: a cross-platform successor of Microsoft's MSCommerce module.
# The GUID is the original's so that Install-Module, Update-Module and #Requires -Modules treat
# this as the same module; the version is above the original's last (3.0.1).
#
@{
    # The DLL itself, which also prints the original's import line (ModuleInitializer): a script
    # root module for that line alone cost a fresh session most of its import time.
    RootModule           = 'MSCommerce.dll'
    ModuleVersion        = '4.0.0'
    GUID                 = '0141756d-17fc-4ea8-9169-d034b210847e'
    Author               = 'The MSCommerce successor authors'
    CompanyName          = 'The MSCommerce successor authors'
    Copyright            = '(c) The MSCommerce successor authors. MIT License.'
    Description          = 'Allow or block self-service purchases and trials of Microsoft 365 products (policy AllowSelfServicePurchase), on Windows PowerShell 5.1 and PowerShell 7 on Windows, Linux and macOS. A drop-in successor of the MSCommerce module.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    # netstandard2.0 needs .NET Framework 4.7.2 on Windows PowerShell 5.1.
    DotNetFrameworkVersion = '4.7.2'
    FormatsToProcess     = @('MSCommerce.Format.ps1xml')
    # Every command by name, no wildcards: PowerShell finds them without loading the module, and
    # the gallery tags the package with each (the pack's check holds the two lists together).
    CmdletsToExport      = @(
        'Connect-MSCommerce'
        'Disconnect-MSCommerce'
        'Export-MSCommercePolicy'
        'Export-MSCommercePolicyReport'
        'Get-MSCommerceConnection'
        'Get-MSCommercePolicies'
        'Get-MSCommercePolicy'
        'Get-MSCommerceProductPolicies'
        'Get-MSCommerceProductPolicy'
        'Import-MSCommercePolicy'
        'Test-MSCommercePolicy'
        'Update-MSCommerceProductPolicy'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('MSCommerce', 'SelfServicePurchase', 'AllowSelfServicePurchase', 'Microsoft365', 'Licensing', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            LicenseUri   = 'https://github.com/mscommerce-successor/MSCommerce/blob/main/LICENSE'
            ProjectUri   = 'https://github.com/mscommerce-successor/MSCommerce'
            RequireLicenseAcceptance = $false
            ReleaseNotes = @'
4.0.0: a cross-platform successor of MSCommerce 3.0.1, with the same GUID, cmdlets, parameters, output and messages, so existing scripts run unchanged.
- Runs on Windows PowerShell 5.1 and PowerShell 7 on Windows, Linux and macOS (x64 and arm64): a netstandard2.0 cmdlet layer over a native core in Rust.
- Cmdlets: Connect-MSCommerce, Disconnect-MSCommerce, Get-MSCommerceConnection, Get-MSCommercePolicies, Get-MSCommercePolicy, Get-MSCommerceProductPolicies, Get-MSCommerceProductPolicy, Update-MSCommerceProductPolicy, and new: Export-MSCommercePolicy, Test-MSCommercePolicy, Import-MSCommercePolicy.
- Sign-in: browser sign-in on every platform, -DeviceCode for SSH sessions and machines without a browser, or -AccessToken. The sign-in is kept in the OS secret store (Windows Credential Manager, macOS Keychain, Linux Secret Service), so a new session reconnects without a prompt; -ContextScope Process keeps nothing. Tokens are refreshed before they expire and never land in a PowerShell variable.
- Bulk and pipeline updates: Update-MSCommerceProductPolicy takes products from the pipeline or picks them with -All, -ProductName and -Exclude. Baselines: Export-MSCommercePolicy writes a policy's values for every product and offer type to a JSON file, Test-MSCommercePolicy shows how the tenant differs from it, Import-MSCommercePolicy applies it. Changes support -WhatIf and -Confirm.
- -Environment, -ServiceUri and -AuthorityUri for other clouds; Get-Help for every cmdlet.
'@
        }
    }
}
