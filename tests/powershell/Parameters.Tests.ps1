#Requires -Version 5.1
<#
.SYNOPSIS
    The cmdlets' surface as PowerShell sees it: names, parameter sets, positions, types,
    validation, pipeline binding, aliases, completers, ShouldProcess, declared output types,
    Get-Help text, and the shape and table view of the output objects.

.DESCRIPTION
    A Pester 5 file, self-contained. It imports the laid-out module from
    $env:MSCOMMERCE_MODULE_DIR (out/MSCommerce/<version>, as `cargo xtask test` sets it) into this
    PowerShell and reads what PowerShell itself reads: Get-Command, its ParameterSets and
    ParameterMetadata, [System.Management.Automation.CommandMetadata], the attributes on each
    parameter, Get-Help, and the formatter (Out-String) on objects of the module's output types.
    Nothing here calls a service, so no emulator is started: what the cmdlets do against one is in
    the other *.Tests.ps1 files.
#>

BeforeDiscovery {
    # The test tables below need the cmdlets' parameters, so the module is imported here as well.
    if (-not $env:MSCOMMERCE_MODULE_DIR -or -not (Test-Path -LiteralPath (Join-Path $env:MSCOMMERCE_MODULE_DIR 'MSCommerce.psd1'))) {
        throw "No MSCommerce.psd1 in MSCOMMERCE_MODULE_DIR ('$env:MSCOMMERCE_MODULE_DIR'): run the tests through build.ps1 or cargo xtask, or set it to out/MSCommerce/<version>."
    }
    Import-Module (Join-Path $env:MSCOMMERCE_MODULE_DIR 'MSCommerce.psd1') -Force 6>$null
    $commonParameters = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters

    # Every cmdlet of the module, with its implementing class and its own (not common) parameters.
    $cmdlets = foreach ($name in @(
            'Connect-MSCommerce', 'Disconnect-MSCommerce', 'Export-MSCommercePolicy', 'Export-MSCommercePolicyReport', 'Get-MSCommerceConnection',
            'Get-MSCommercePolicies', 'Get-MSCommercePolicy', 'Get-MSCommerceProductPolicies', 'Get-MSCommerceProductPolicy',
            'Import-MSCommercePolicy', 'Test-MSCommercePolicy', 'Update-MSCommerceProductPolicy')) {
        $verb, $noun = $name -split '-', 2
        @{
            Name       = $name
            Class      = "MSCommerce.Commands.$verb${noun}Command"
            Parameters = @(
                (Get-Command -Name $name -Module MSCommerce).Parameters.Keys |
                    Where-Object { $commonParameters -notcontains $_ } |
                    ForEach-Object { @{ Name = $name; Parameter = $_ } }
            )
        }
    }
}

BeforeAll {
    $ErrorActionPreference = 'Stop'
    Import-Module (Join-Path $env:MSCOMMERCE_MODULE_DIR 'MSCommerce.psd1') -Force 6>$null
    $commonParameters = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters

    # The cmdlet's own parameters in one parameter set (the only one when -Set is not given).
    function Get-SetParameter([string] $Command, [string] $Set) {
        $sets = @((Get-Command -Name $Command -Module MSCommerce).ParameterSets | Where-Object { -not $Set -or $_.Name -eq $Set })
        if ($sets.Count -ne 1) { throw "$Command has $($sets.Count) parameter sets matching '$Set'" }
        $sets[0].Parameters | Where-Object { $commonParameters -notcontains $_.Name }
    }

    # 'Name position|named mandatory|optional' for each parameter: positional ones by position,
    # then named ones by name.
    function Format-Parameter($Parameters) {
        $sorted = @($Parameters | Where-Object Position -GE 0 | Sort-Object Position) + @($Parameters | Where-Object Position -LT 0 | Sort-Object Name)
        ($sorted | ForEach-Object {
                '{0} {1} {2}' -f $_.Name, $(if ($_.Position -ge 0) { $_.Position } else { 'named' }), $(if ($_.IsMandatory) { 'mandatory' } else { 'optional' })
            }) -join ', '
    }

    # The parameter attributes of one type, as PowerShell's ParameterMetadata holds them.
    function Get-ParameterAttribute([string] $Command, [string] $Parameter, [type] $Type) {
        @((Get-Command -Name $Command -Module MSCommerce).Parameters[$Parameter].Attributes | Where-Object { $_ -is $Type })
    }

    # The types the cmdlet's [OutputType] attributes declare for a parameter set, as declared
    # (__AllParameterSets for an attribute that names none).
    function Get-DeclaredOutputType([string] $Command, [string] $Set) {
        (Get-Command -Name $Command -Module MSCommerce).ImplementingType.GetCustomAttributes([System.Management.Automation.OutputTypeAttribute], $false) |
            Where-Object { $_.ParameterSetName -contains $Set } |
            ForEach-Object { $_.Type.Name }
    }
}

Describe 'The module exports the cmdlets its assembly defines' {
    BeforeAll {
        $module = Get-Module MSCommerce
        $defined = @($module.ImplementingAssembly.GetTypes() |
                ForEach-Object { $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false) } |
                ForEach-Object { "$($_.VerbName)-$($_.NounName)" } | Sort-Object)
    }

    It 'MSCommerce.dll defines the twelve cmdlets of the module' {
        $defined -join ', ' | Should -BeExactly 'Connect-MSCommerce, Disconnect-MSCommerce, Export-MSCommercePolicy, Export-MSCommercePolicyReport, Get-MSCommerceConnection, Get-MSCommercePolicies, Get-MSCommercePolicy, Get-MSCommerceProductPolicies, Get-MSCommerceProductPolicy, Import-MSCommercePolicy, Test-MSCommercePolicy, Update-MSCommerceProductPolicy'
    }

    It 'the imported module exports every cmdlet MSCommerce.dll defines and no other command' {
        @($module.ExportedCommands.Keys | Sort-Object) -join ', ' | Should -BeExactly ($defined -join ', ')
    }

    It "the manifest's CmdletsToExport names each of them" {
        $manifest = Import-PowerShellDataFile -LiteralPath (Join-Path $module.ModuleBase 'MSCommerce.psd1')
        @($manifest.CmdletsToExport | Sort-Object) -join ', ' | Should -BeExactly ($defined -join ', ')
    }
}

Describe '<Name> is a sealed cmdlet class named after its verb and noun' -ForEach $cmdlets {
    BeforeAll {
        $type = (Get-Command -Name $Name -Module MSCommerce).ImplementingType
    }

    It '<Name> is implemented by <Class>' {
        $type.FullName | Should -BeExactly $Class
    }

    It 'its class is public and sealed' {
        $type.IsPublic -and $type.IsSealed | Should -BeTrue
    }

    It 'its class derives from MSCommerceCmdletBase' {
        $type.BaseType.FullName | Should -BeExactly 'MSCommerce.Commands.MSCommerceCmdletBase'
    }
}

Describe 'The cmdlet base class' {
    It 'MSCommerceCmdletBase derives from PSCmdlet' {
        [MSCommerce.Commands.MSCommerceCmdletBase].BaseType | Should -Be ([System.Management.Automation.PSCmdlet])
    }
}

Describe '<Name> takes positional string parameters in one set' -ForEach @(
    @{ Name = 'Get-MSCommercePolicies'; Class = 'GetMSCommercePoliciesCommand'; Expected = 'Token 0 optional, TenantId named optional' }
    @{ Name = 'Get-MSCommercePolicy'; Class = 'GetMSCommercePolicyCommand'; Expected = 'PolicyId 0 mandatory, Token 1 optional, TenantId named optional' }
    @{ Name = 'Get-MSCommerceProductPolicies'; Class = 'GetMSCommerceProductPoliciesCommand'; Expected = 'PolicyId 0 mandatory, Scope 1 optional, Token 2 optional, TenantId named optional' }
) {
    It '<Name> takes <Expected> and nothing else' {
        Format-Parameter (Get-SetParameter $Name) | Should -BeExactly $Expected
    }

    It '<Name> takes every parameter of the original as a string' {
        @(Get-SetParameter $Name | Where-Object { $_.Name -ne 'TenantId' -and $_.ParameterType -ne [string] }).Name | Should -BeNullOrEmpty
    }

    It "<Name>'s only parameter set is named by its public DefaultParameterSet constant" {
        $constant = ("MSCommerce.Commands.$Class" -as [type])::DefaultParameterSet
        (Get-Command -Name $Name -Module MSCommerce).ParameterSets.Name -join ', ' | Should -BeExactly $constant
    }

    It "<Name> declares each of its parameters in that set by name" {
        $constant = ("MSCommerce.Commands.$Class" -as [type])::DefaultParameterSet
        $parameters = (Get-Command -Name $Name -Module MSCommerce).Parameters.Values | Where-Object { $commonParameters -notcontains $_.Name }
        @($parameters | Where-Object { ($_.ParameterSets.Keys -join ',') -ne $constant }).Name | Should -BeNullOrEmpty
    }
}

Describe 'Get-MSCommercePolicy binds -PolicyId from piped objects' {
    It '-PolicyId binds from the pipeline by property name' {
        (Get-Command Get-MSCommercePolicy).Parameters['PolicyId'].ParameterSets['Default'].ValueFromPipelineByPropertyName | Should -BeTrue
    }
}

Describe 'Each parameter set declares its output type' {
    It '<Name> declares <Types> as the output of parameter set <Set>' -ForEach @(
        @{ Name = 'Connect-MSCommerce'; Set = '__AllParameterSets'; Types = 'System.Void' }
        @{ Name = 'Disconnect-MSCommerce'; Set = '__AllParameterSets'; Types = 'System.Void' }
        @{ Name = 'Export-MSCommercePolicy'; Set = 'Default'; Types = 'System.IO.FileInfo' }
        @{ Name = 'Export-MSCommercePolicyReport'; Set = 'Default'; Types = 'System.IO.FileInfo' }
        @{ Name = 'Get-MSCommerceConnection'; Set = 'Default'; Types = 'MSCommerce.Connection' }
        @{ Name = 'Get-MSCommercePolicies'; Set = 'Default'; Types = 'MSCommerce.Policy' }
        @{ Name = 'Get-MSCommercePolicy'; Set = 'Default'; Types = 'MSCommerce.Policy' }
        @{ Name = 'Get-MSCommerceProductPolicies'; Set = 'Default'; Types = 'MSCommerce.ProductPolicy, MSCommerce.ScopePolicy' }
        @{ Name = 'Get-MSCommerceProductPolicy'; Set = 'Product'; Types = 'MSCommerce.ProductPolicy' }
        @{ Name = 'Get-MSCommerceProductPolicy'; Set = 'ProductName'; Types = 'MSCommerce.ProductPolicy' }
        @{ Name = 'Get-MSCommerceProductPolicy'; Set = 'OfferType'; Types = 'MSCommerce.ScopePolicy' }
        @{ Name = 'Import-MSCommercePolicy'; Set = 'Default'; Types = 'MSCommerce.ProductPolicy, MSCommerce.ScopePolicy' }
        @{ Name = 'Test-MSCommercePolicy'; Set = 'Default'; Types = 'MSCommerce.PolicyDrift, System.Boolean' }
        @{ Name = 'Update-MSCommerceProductPolicy'; Set = 'ProductEnum'; Types = 'MSCommerce.ProductPolicy' }
        @{ Name = 'Update-MSCommerceProductPolicy'; Set = 'ProductToggle'; Types = 'MSCommerce.ProductPolicy' }
        @{ Name = 'Update-MSCommerceProductPolicy'; Set = 'ProductNameEnum'; Types = 'MSCommerce.ProductPolicy' }
        @{ Name = 'Update-MSCommerceProductPolicy'; Set = 'ProductNameToggle'; Types = 'MSCommerce.ProductPolicy' }
        @{ Name = 'Update-MSCommerceProductPolicy'; Set = 'OfferTypeEnum'; Types = 'MSCommerce.ScopePolicy' }
        @{ Name = 'Update-MSCommerceProductPolicy'; Set = 'OfferTypeToggle'; Types = 'MSCommerce.ScopePolicy' }
        @{ Name = 'Update-MSCommerceProductPolicy'; Set = 'AllEnum'; Types = 'MSCommerce.ProductPolicy, MSCommerce.ScopePolicy' }
        @{ Name = 'Update-MSCommerceProductPolicy'; Set = 'AllToggle'; Types = 'MSCommerce.ProductPolicy, MSCommerce.ScopePolicy' }
    ) {
        (Get-DeclaredOutputType $Name $Set) -join ', ' | Should -BeExactly $Types
    }
}

Describe 'Update-MSCommerceProductPolicy parameter sets' {
    It "has the original's four parameter sets, then by name and -All, each with -Value or -Enabled" {
        (Get-Command Update-MSCommerceProductPolicy).ParameterSets.Name -join ', ' |
            Should -BeExactly 'ProductEnum, ProductToggle, OfferTypeEnum, OfferTypeToggle, ProductNameEnum, ProductNameToggle, AllEnum, AllToggle'
    }

    It 'defaults to ProductEnum' {
        (Get-Command Update-MSCommerceProductPolicy).DefaultParameterSet | Should -BeExactly 'ProductEnum'
    }

    It 'in <Set>, takes -PolicyId, -<Item> and -<Value> by position and -Token after them' -ForEach @(
        @{ Set = 'ProductEnum'; Item = 'ProductId'; Value = 'Value' }
        @{ Set = 'ProductToggle'; Item = 'ProductId'; Value = 'Enabled' }
        @{ Set = 'OfferTypeEnum'; Item = 'OfferType'; Value = 'Value' }
        @{ Set = 'OfferTypeToggle'; Item = 'OfferType'; Value = 'Enabled' }
    ) {
        Format-Parameter (Get-SetParameter Update-MSCommerceProductPolicy $Set | Where-Object Position -GE 0) |
            Should -BeExactly "PolicyId 0 mandatory, $Item 1 mandatory, $Value 2 mandatory, Token 3 optional"
    }

    It 'in <_>, names only -TenantId and -ThrottleLimit beside the positional parameters' -ForEach @('ProductEnum', 'ProductToggle', 'OfferTypeEnum', 'OfferTypeToggle') {
        Format-Parameter (Get-SetParameter Update-MSCommerceProductPolicy $_ | Where-Object Position -LT 0) | Should -BeExactly 'TenantId named optional, ThrottleLimit named optional'
    }

    It 'in <Set>, takes only -PolicyId by position, and -<Picker> and -<Value> by name' -ForEach @(
        @{ Set = 'ProductNameEnum'; Picker = 'ProductName'; Value = 'Value'; Expected = 'PolicyId 0 mandatory, ProductName named mandatory, TenantId named optional, ThrottleLimit named optional, Token named optional, Value named mandatory' }
        @{ Set = 'ProductNameToggle'; Picker = 'ProductName'; Value = 'Enabled'; Expected = 'PolicyId 0 mandatory, Enabled named mandatory, ProductName named mandatory, TenantId named optional, ThrottleLimit named optional, Token named optional' }
        @{ Set = 'AllEnum'; Picker = 'All'; Value = 'Value'; Expected = 'PolicyId 0 mandatory, All named mandatory, Exclude named optional, Scope named optional, TenantId named optional, ThrottleLimit named optional, Token named optional, Value named mandatory' }
        @{ Set = 'AllToggle'; Picker = 'All'; Value = 'Enabled'; Expected = 'PolicyId 0 mandatory, All named mandatory, Enabled named mandatory, Exclude named optional, Scope named optional, TenantId named optional, ThrottleLimit named optional, Token named optional' }
    ) {
        Format-Parameter (Get-SetParameter Update-MSCommerceProductPolicy $Set) | Should -BeExactly $Expected
    }

    It 'asks for confirmation at ConfirmImpact Medium, as the original' {
        [System.Management.Automation.CommandMetadata]::new((Get-Command Update-MSCommerceProductPolicy)).ConfirmImpact | Should -Be ([System.Management.Automation.ConfirmImpact]::Medium)
    }

    It '-Value accepts only Enabled, Disabled and OnlyTrialsWithoutPaymentMethod' {
        $validate = Get-ParameterAttribute Update-MSCommerceProductPolicy Value ([System.Management.Automation.ValidateSetAttribute])
        $validate.ValidValues -join ', ' | Should -BeExactly 'Enabled, Disabled, OnlyTrialsWithoutPaymentMethod'
    }

    It '-Enabled is a string' {
        (Get-Command Update-MSCommerceProductPolicy).Parameters['Enabled'].ParameterType | Should -Be ([string])
    }

    It '-Enabled is checked at binding by ValidateEnabledAttribute' {
        (Get-ParameterAttribute Update-MSCommerceProductPolicy Enabled ([MSCommerce.Commands.ValidateEnabledAttribute])).Count | Should -Be 1
    }
}

Describe 'Item cmdlets take arrays of items bound from piped objects' {
    $itemSets = @(
        @{ Name = 'Update-MSCommerceProductPolicy'; Set = 'ProductEnum'; Item = 'ProductId' }
        @{ Name = 'Update-MSCommerceProductPolicy'; Set = 'OfferTypeEnum'; Item = 'OfferType' }
        @{ Name = 'Get-MSCommerceProductPolicy'; Set = 'Product'; Item = 'ProductId' }
        @{ Name = 'Get-MSCommerceProductPolicy'; Set = 'OfferType'; Item = 'OfferType' }
    )

    It '<Name> in <Set> binds -PolicyId from piped objects by property name' -ForEach $itemSets {
        (Get-SetParameter $Name $Set | Where-Object Name -EQ 'PolicyId').ValueFromPipelineByPropertyName | Should -BeTrue
    }

    It '<Name> in <Set> binds -<Item> from piped objects by property name' -ForEach $itemSets {
        (Get-SetParameter $Name $Set | Where-Object Name -EQ $Item).ValueFromPipelineByPropertyName | Should -BeTrue
    }

    It '<Name> in <Set> takes an array of -<Item>' -ForEach $itemSets {
        (Get-SetParameter $Name $Set | Where-Object Name -EQ $Item).ParameterType | Should -Be ([string[]])
    }
}

Describe '-OfferType binds the ScopeId of piped offer types' {
    It '<_> -OfferType has the alias ScopeId' -ForEach @('Update-MSCommerceProductPolicy', 'Get-MSCommerceProductPolicy') {
        (Get-Command -Name $_ -Module MSCommerce).Parameters['OfferType'].Aliases | Should -Contain 'ScopeId'
    }
}

Describe '-ThrottleLimit is bounded' {
    It '<_> -ThrottleLimit takes 1 to 256' -ForEach @('Update-MSCommerceProductPolicy', 'Import-MSCommercePolicy') {
        $range = Get-ParameterAttribute $_ ThrottleLimit ([System.Management.Automation.ValidateRangeAttribute])
        '{0}..{1}' -f $range.MinRange, $range.MaxRange | Should -BeExactly '1..256'
    }
}

Describe 'Get-MSCommerceProductPolicy takes -PolicyId and one kind of item per set' {
    It 'in <Set>, takes PolicyId 0, <Item> 1 (both mandatory) and Token 2' -ForEach @(
        @{ Set = 'Product'; Item = 'ProductId' }
        @{ Set = 'OfferType'; Item = 'OfferType' }
    ) {
        Format-Parameter (Get-SetParameter Get-MSCommerceProductPolicy $Set) | Should -BeExactly "PolicyId 0 mandatory, $Item 1 mandatory, Token 2 optional, TenantId named optional"
    }
}

Describe 'Tenant values complete with the tenant completers' {
    It '<Name> -<Parameter> completes with <Completer>' -ForEach @(
        @{ Name = 'Update-MSCommerceProductPolicy'; Parameter = 'PolicyId'; Completer = 'MSCommerce.Completion.PolicyIdCompleter' }
        @{ Name = 'Update-MSCommerceProductPolicy'; Parameter = 'ProductId'; Completer = 'MSCommerce.Completion.ProductIdCompleter' }
        @{ Name = 'Update-MSCommerceProductPolicy'; Parameter = 'ProductName'; Completer = 'MSCommerce.Completion.ProductNameCompleter' }
        @{ Name = 'Update-MSCommerceProductPolicy'; Parameter = 'OfferType'; Completer = 'MSCommerce.Completion.OfferTypeCompleter' }
        @{ Name = 'Get-MSCommerceProductPolicy'; Parameter = 'PolicyId'; Completer = 'MSCommerce.Completion.PolicyIdCompleter' }
        @{ Name = 'Get-MSCommerceProductPolicy'; Parameter = 'ProductId'; Completer = 'MSCommerce.Completion.ProductIdCompleter' }
        @{ Name = 'Get-MSCommerceProductPolicy'; Parameter = 'ProductName'; Completer = 'MSCommerce.Completion.ProductNameCompleter' }
        @{ Name = 'Get-MSCommerceProductPolicy'; Parameter = 'OfferType'; Completer = 'MSCommerce.Completion.OfferTypeCompleter' }
        @{ Name = 'Get-MSCommerceProductPolicies'; Parameter = 'PolicyId'; Completer = 'MSCommerce.Completion.PolicyIdCompleter' }
        @{ Name = 'Get-MSCommercePolicy'; Parameter = 'PolicyId'; Completer = 'MSCommerce.Completion.PolicyIdCompleter' }
        @{ Name = 'Export-MSCommercePolicy'; Parameter = 'PolicyId'; Completer = 'MSCommerce.Completion.PolicyIdCompleter' }
        @{ Name = 'Export-MSCommercePolicyReport'; Parameter = 'PolicyId'; Completer = 'MSCommerce.Completion.PolicyIdCompleter' }
    ) {
        (Get-ParameterAttribute $Name $Parameter ([System.Management.Automation.ArgumentCompleterAttribute])).Type.FullName | Should -BeExactly $Completer
    }
}

Describe 'Cmdlets that change something support -WhatIf and -Confirm' {
    It '<_> supports ShouldProcess' -ForEach @('Update-MSCommerceProductPolicy', 'Export-MSCommercePolicy', 'Export-MSCommercePolicyReport', 'Import-MSCommercePolicy') {
        [System.Management.Automation.CommandMetadata]::new((Get-Command -Name $_ -Module MSCommerce)).SupportsShouldProcess | Should -BeTrue
    }

    It '<_> does not support ShouldProcess' -ForEach @(
        'Connect-MSCommerce', 'Disconnect-MSCommerce', 'Get-MSCommerceConnection', 'Get-MSCommercePolicies', 'Get-MSCommercePolicy',
        'Get-MSCommerceProductPolicies', 'Get-MSCommerceProductPolicy', 'Test-MSCommercePolicy') {
        [System.Management.Automation.CommandMetadata]::new((Get-Command -Name $_ -Module MSCommerce)).SupportsShouldProcess | Should -BeFalse
    }
}

Describe 'Baseline cmdlets take a file that binds from piped files' {
    It '<_> takes a mandatory -Path at position 0, bound from piped objects by property name' -ForEach @('Test-MSCommercePolicy', 'Import-MSCommercePolicy') {
        $path = Get-SetParameter $_ | Where-Object Name -EQ 'Path'
        '{0} {1} {2}' -f $path.Position, $path.IsMandatory, $path.ValueFromPipelineByPropertyName | Should -BeExactly '0 True True'
    }

    It '<_> -Path has the alias FullName, so piped files bind' -ForEach @('Test-MSCommercePolicy', 'Import-MSCommercePolicy') {
        (Get-Command -Name $_ -Module MSCommerce).Parameters['Path'].Aliases | Should -Contain 'FullName'
    }
}

Describe 'Connect-MSCommerce parameters' {
    It "takes the original's -ClientId <string>, -RedirectUri <Uri>, -Resource <string> at positions 0 to 2" {
        (Get-SetParameter Connect-MSCommerce Interactive | Where-Object Position -GE 0 | Sort-Object Position |
            ForEach-Object { '{0} {1} {2}' -f $_.Name, $_.Position, $_.ParameterType.FullName }) -join ', ' |
            Should -BeExactly 'ClientId 0 System.String, RedirectUri 1 System.Uri, Resource 2 System.String'
    }

    It 'names tenant, account, cloud and cache scope without positions in the interactive set' {
        @(Get-SetParameter Connect-MSCommerce Interactive | Where-Object Position -LT 0 | Sort-Object Name).Name -join ', ' |
            Should -BeExactly 'AuthorityUri, ContextScope, Environment, LoginHint, ServiceUri, TenantId'
    }

    It 'takes the same, less -RedirectUri, with -DeviceCode' {
        @(Get-SetParameter Connect-MSCommerce DeviceCode | Sort-Object Name).Name -join ', ' |
            Should -BeExactly 'AuthorityUri, ClientId, ContextScope, DeviceCode, Environment, LoginHint, Resource, ServiceUri, TenantId'
    }

    It '-DeviceCode is a mandatory switch of its set' {
        $deviceCode = Get-SetParameter Connect-MSCommerce DeviceCode | Where-Object Name -EQ 'DeviceCode'
        '{0} {1}' -f $deviceCode.ParameterType.FullName, $deviceCode.IsMandatory | Should -BeExactly 'System.Management.Automation.SwitchParameter True'
    }

    It '-DeviceCode is also named -UseDeviceAuthentication' {
        (Get-Command Connect-MSCommerce).Parameters['DeviceCode'].Aliases | Should -Contain 'UseDeviceAuthentication'
    }

    It '-ContextScope takes CurrentUser or Process' {
        (Get-ParameterAttribute Connect-MSCommerce ContextScope ([System.Management.Automation.ValidateSetAttribute])).ValidValues -join ', ' |
            Should -BeExactly 'CurrentUser, Process'
    }

    It 'with -AccessToken needs nothing else, and takes only -Environment and -ServiceUri beside it' {
        Format-Parameter (Get-SetParameter Connect-MSCommerce AccessToken) |
            Should -BeExactly 'AccessToken named mandatory, Environment named optional, ServiceUri named optional'
    }
}

Describe 'Disconnect-MSCommerce parameters' {
    It 'takes only the -ForgetAccount switch, optional' {
        (Get-SetParameter Disconnect-MSCommerce | ForEach-Object { '{0} {1} {2}' -f $_.Name, $_.ParameterType.FullName, $_.IsMandatory }) -join ', ' |
            Should -BeExactly 'ForgetAccount System.Management.Automation.SwitchParameter False'
    }
}

Describe 'Every cmdlet that calls the licensing API takes -Token' {
    It '<_> takes -Token' -ForEach @(
        'Export-MSCommercePolicy', 'Export-MSCommercePolicyReport', 'Get-MSCommercePolicies', 'Get-MSCommercePolicy', 'Get-MSCommerceProductPolicies',
        'Get-MSCommerceProductPolicy', 'Import-MSCommercePolicy', 'Test-MSCommercePolicy', 'Update-MSCommerceProductPolicy') {
        (Get-Command -Name $_ -Module MSCommerce).Parameters.ContainsKey('Token') | Should -BeTrue
    }

    It '<_> manages the connection and takes no -Token' -ForEach @('Connect-MSCommerce', 'Disconnect-MSCommerce', 'Get-MSCommerceConnection') {
        (Get-Command -Name $_ -Module MSCommerce).Parameters.ContainsKey('Token') | Should -BeFalse
    }
}

Describe 'Every cmdlet that calls the licensing API takes -TenantId' {
    It '<_> takes -TenantId as a list of tenants' -ForEach @(
        'Export-MSCommercePolicyReport', 'Get-MSCommercePolicies', 'Get-MSCommercePolicy', 'Get-MSCommerceProductPolicies',
        'Get-MSCommerceProductPolicy', 'Import-MSCommercePolicy', 'Test-MSCommercePolicy', 'Update-MSCommerceProductPolicy') {
        (Get-Command -Name $_ -Module MSCommerce).Parameters['TenantId'].ParameterType | Should -Be ([string[]])
    }

    It 'Export-MSCommercePolicy takes one tenant: a baseline file holds one tenant''s values' {
        $attribute = (Get-Command Export-MSCommercePolicy).Parameters['TenantId'].Attributes |
            Where-Object { $_ -is [System.Management.Automation.ValidateCountAttribute] }
        $attribute.MaxLength | Should -Be 1
    }

    It 'Update-MSCommerceProductPolicy binds -TenantId from piped objects, so items keep their tenant' {
        (Get-Command Update-MSCommerceProductPolicy).Parameters['TenantId'].Attributes |
            Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] } |
            ForEach-Object { $_.ValueFromPipelineByPropertyName } | Should -Not -Contain $false
    }
}

Describe 'The help file' {
    It 'holds one entry for each exported cmdlet and no other' {
        $module = Get-Module MSCommerce
        [xml] $maml = Get-Content -Raw -LiteralPath (Join-Path $module.ModuleBase 'en-US/MSCommerce.dll-Help.xml')
        $names = $maml.GetElementsByTagName('name', 'http://schemas.microsoft.com/maml/dev/command/2004/10') | ForEach-Object { $_.InnerText.Trim() }
        @($names | Sort-Object) -join ', ' | Should -BeExactly (@($module.ExportedCmdlets.Keys | Sort-Object) -join ', ')
    }
}

Describe 'Get-Help <Name>' -ForEach $cmdlets {
    BeforeAll {
        $help = Get-Help -Name $Name -Full
    }

    It 'has a synopsis' {
        # Without help text Get-Help makes the synopsis from the syntax, which starts with the name.
        $help.Synopsis -and $help.Synopsis -notlike "$Name*" | Should -BeTrue -Because "the synopsis was '$($help.Synopsis)'"
    }

    It 'has a description' {
        ($help.Description | ForEach-Object Text) -join '' | Should -Not -BeNullOrEmpty
    }

    It 'has an example' {
        @($help.Examples.Example | Where-Object { $_.Code }).Count | Should -BeGreaterThan 0
    }

    It 'shows one syntax for each parameter set' {
        @($help.Syntax.SyntaxItem).Count | Should -Be @((Get-Command -Name $Name -Module MSCommerce).ParameterSets).Count
    }

    It 'describes -<Parameter>' -ForEach $Parameters {
        $text = @($help.Parameters.Parameter | Where-Object Name -EQ $Parameter | ForEach-Object { $_.Description } | ForEach-Object Text) -join ''
        $text | Should -Not -BeNullOrEmpty
    }
}

Describe 'The help of Update-MSCommerceProductPolicy' {
    It "carries the documentation's example script" {
        $code = @((Get-Help Update-MSCommerceProductPolicy -Full).Examples.Example.Code)
        @($code | Where-Object {
                $_.Contains("where {`$_.ProductName -match 'Power Automate per user'}") -and $_.Contains('-ProductId $product.ProductID -Value "Disabled"')
            }).Count | Should -BeGreaterThan 0 -Because 'an example runs the script of the documentation unchanged'
    }

    It 'lists the three valid values of -Value' {
        (Get-Help Update-MSCommerceProductPolicy -Parameter Value).parameterValueGroup.parameterValue -join ', ' |
            Should -BeExactly 'Enabled, Disabled, OnlyTrialsWithoutPaymentMethod'
    }
}

Describe 'Output object <Type>' -ForEach @(
    # The original's properties, in its order, then the tenant each object came from (-TenantId).
    @{ Type = 'MSCommerce.Policy'; Properties = 'PolicyId', 'Description', 'DefaultValue', 'TenantId'; Order = 'PolicyId, Description, DefaultValue, TenantId' }
    # The order the original prints on Windows PowerShell 5.1; scripts split table rows on it.
    @{ Type = 'MSCommerce.ProductPolicy'; Properties = 'PolicyValue', 'ProductId', 'PolicyId', 'ProductName', 'TenantId'; Order = 'PolicyValue, ProductId, PolicyId, ProductName, TenantId' }
    @{ Type = 'MSCommerce.ScopePolicy'; Properties = 'PolicyId', 'PolicyValue', 'ScopeId', 'ScopeValue', 'Scope', 'TenantId'; Order = 'PolicyId, PolicyValue, ScopeId, ScopeValue, Scope, TenantId' }
    @{ Type = 'MSCommerce.PolicyDrift'; Properties = 'PolicyId', 'Scope', 'Id', 'Name', 'Change', 'BaselineValue', 'CurrentValue', 'TenantId'; Order = 'PolicyId, Scope, Id, Name, Change, BaselineValue, CurrentValue, TenantId' }
) {
    BeforeAll {
        $class = $Type -as [type]
    }

    It 'has its properties in the order <Order>' {
        (New-Object -TypeName $Type).PSObject.Properties.Name -join ', ' | Should -BeExactly ($Properties -join ', ')
    }

    It 'is a public class straight from System.Object' {
        '{0} {1} {2}' -f $class.IsPublic, $class.IsClass, $class.BaseType.FullName | Should -BeExactly 'True True System.Object'
    }

    It 'has only string properties that scripts can read and set' {
        @((New-Object -TypeName $Type).PSObject.Properties | Where-Object { $_.TypeNameOfValue -ne 'System.String' -or -not $_.IsGettable -or -not $_.IsSettable }).Name |
            Should -BeNullOrEmpty
    }

    It 'prints as a table headed by those properties but TenantId, in that order' {
        # The contract fixes the table; the tenant shows in lists (Format-List) and exports.
        $columns = @($Properties | Where-Object { $_ -ne 'TenantId' })
        $header = @((New-Object -TypeName $Type | Out-String -Width 500) -split '\r?\n' | Where-Object { $_.Trim() })[0]
        $header.Trim() -split '\s+' -join ' ' | Should -BeExactly ($columns -join ' ')
    }

    It "prints each column from the property it is headed by" {
        # Each property holds its own name in lower case, so the row shows which property each column reads.
        $columns = @($Properties | Where-Object { $_ -ne 'TenantId' })
        $item = New-Object -TypeName $Type
        foreach ($property in $Properties) { $item.$property = $property.ToLowerInvariant() }
        $row = @(($item | Out-String -Width 500) -split '\r?\n' | Where-Object { $_.Trim() })[2]
        $row.Trim() -split '\s+' -join ' ' | Should -BeExactly ($columns -join ' ').ToLowerInvariant()
    }

    It 'shows TenantId in a list' {
        $item = New-Object -TypeName $Type
        $item.TenantId = 'the-tenant'
        ($item | Format-List | Out-String) | Should -Match 'TenantId\s*:\s*the-tenant'
    }
}

Describe "The module's format file" {
    It 'has a view for each of the four output objects and no other' {
        $views = foreach ($file in (Get-Module MSCommerce).ExportedFormatFiles) {
            ([xml] (Get-Content -Raw -LiteralPath $file)).Configuration.ViewDefinitions.View | ForEach-Object { $_.ViewSelectedBy.TypeName }
        }
        @($views | Sort-Object) -join ', ' | Should -BeExactly 'MSCommerce.Policy, MSCommerce.PolicyDrift, MSCommerce.ProductPolicy, MSCommerce.ScopePolicy'
    }
}
