#
# Module manifest for MSCommerce: a cross-platform successor of Microsoft's MSCommerce module.
# The GUID is the original's so that Install-Module, Update-Module and #Requires -Modules treat
# this as the same module; the version is above the original's last (3.0.1).
#
@{
    # A script root module only to print the original's import line; the cmdlets are in the DLL.
    RootModule           = 'MSCommerce.psm1'
    NestedModules        = @('MSCommerce.dll')
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
    CmdletsToExport      = @(
        'Connect-MSCommerce'
        'Disconnect-MSCommerce'
        'Get-MSCommerceConnection'
        'Get-MSCommercePolicies'
        'Get-MSCommercePolicy'
        'Get-MSCommerceProductPolicies'
        'Get-MSCommerceProductPolicy'
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
            ReleaseNotes = 'First cut: Get-MSCommercePolicies and Get-MSCommercePolicy on a cross-platform native core.'
        }
    }
}
