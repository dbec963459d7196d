using System;
using System.Collections.Generic;
using System.Management.Automation;
using MSCommerce.Completion;
using MSCommerce.Interop;

namespace MSCommerce.Commands
{
    /// <summary>
    /// <para type="synopsis">Allows or blocks self-service purchase (and trials) of one product or one third-party offer type.</para>
    /// <para type="description">Sets the policy's value for products (-ProductId, or -ProductName with wildcards) or offer types (-OfferType), either with -Value (Enabled, Disabled, or OnlyTrialsWithoutPaymentMethod for products that offer a trial without a payment method) or with -Enabled $true/$false. The change affects only later purchases and trials. Prints "Update policy product success" and outputs each updated item. Several items (an array, pipeline input from Get-MSCommerceProductPolicies, -ProductName patterns, or -All) are updated together at the end of the pipeline, at most -ThrottleLimit at a time, with a progress bar. Each item that fails is one non-terminating error whose target is the item's id; the others are updated and output. -WhatIf and -Confirm ask per item.</para>
    /// </summary>
    /// <example>
    /// <code>
    /// Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0KP0N -Enabled $False
    /// </code>
    /// <para>Blocks self-service purchase of one product; -Enabled $True allows it again.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0HD33 -Value OnlyTrialsWithoutPaymentMethod
    /// </code>
    /// <para>Allows only trials that need no payment method for Visio Plan 1; users cannot buy it.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -OfferType SaaS -Value Disabled
    /// </code>
    /// <para>Blocks self-service purchase of third-party SaaS offers.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Import-Module -Name MSCommerce
    /// Connect-MSCommerce #sign-in with your global or billing administrator account when prompted
    /// $product = Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase | where {$_.ProductName -match 'Power Automate per user'}
    /// Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId $product.ProductID -Value "Disabled"
    /// </code>
    /// <para>The documentation's example script: find Power Automate per user and disable self-service purchase for it.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -All -Value Disabled -Exclude 'Power BI*', CFQ7TTC0HD33
    /// </code>
    /// <para>Blocks self-service purchase of every product except the Power BI products and Visio Plan 1.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase | Where-Object PolicyValue -eq Enabled | Update-MSCommerceProductPolicy -Value Disabled
    /// </code>
    /// <para>Blocks every product that is allowed now: PolicyId and ProductId bind from the piped objects.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductName 'Power Automate*' -Enabled $false -WhatIf
    /// </code>
    /// <para>Shows which products named Power Automate... would be blocked, without changing anything.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -All -Scope OfferType -Value Disabled
    /// </code>
    /// <para>Blocks every third-party offer type.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -All -Value Disabled -TenantId (Get-Content ./customers.txt)
    /// </code>
    /// <para>Blocks self-service purchase of every product in every customer tenant of the list; a tenant that cannot be changed is one error, the others are updated.</para>
    /// </example>
    [Cmdlet(VerbsData.Update, "MSCommerceProductPolicy", DefaultParameterSetName = ProductEnumSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ProductPolicy), ParameterSetName = new[] { ProductEnumSet, ProductToggleSet, ProductNameEnumSet, ProductNameToggleSet })]
    [OutputType(typeof(ScopePolicy), ParameterSetName = new[] { OfferTypeEnumSet, OfferTypeToggleSet })]
    [OutputType(typeof(ProductPolicy), typeof(ScopePolicy), ParameterSetName = new[] { AllEnumSet, AllToggleSet })]
    public sealed class UpdateMSCommerceProductPolicyCommand : MSCommerceCmdletBase
    {
        /// <summary>Products by id, with -Value (the default).</summary>
        public const string ProductEnumSet = "ProductEnum";

        /// <summary>Products by id, with -Enabled.</summary>
        public const string ProductToggleSet = "ProductToggle";

        /// <summary>Offer types, with -Value.</summary>
        public const string OfferTypeEnumSet = "OfferTypeEnum";

        /// <summary>Offer types, with -Enabled.</summary>
        public const string OfferTypeToggleSet = "OfferTypeToggle";

        /// <summary>Products by name, with -Value.</summary>
        public const string ProductNameEnumSet = "ProductNameEnum";

        /// <summary>Products by name, with -Enabled.</summary>
        public const string ProductNameToggleSet = "ProductNameToggle";

        /// <summary>Every product or offer type, with -Value.</summary>
        public const string AllEnumSet = "AllEnum";

        /// <summary>Every product or offer type, with -Enabled.</summary>
        public const string AllToggleSet = "AllToggle";

        private readonly List<PlannedUpdate> pending = new List<PlannedUpdate>();

        /// <summary>
        /// <para type="description">The policy's id, such as AllowSelfServicePurchase.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ProductEnumSet)]
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ProductToggleSet)]
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = OfferTypeEnumSet)]
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = OfferTypeToggleSet)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ProductNameEnumSet)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ProductNameToggleSet)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = AllEnumSet)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = AllToggleSet)]
        [ArgumentCompleter(typeof(PolicyIdCompleter))]
        public string PolicyId { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">The product's id, such as CFQ7TTC0KP0N (Get-MSCommerceProductPolicies lists them), or several.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = ProductEnumSet)]
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = ProductToggleSet)]
        [ArgumentCompleter(typeof(ProductIdCompleter))]
        public string[] ProductId { get; set; } = Array.Empty<string>();

        /// <summary>
        /// <para type="description">The third-party offer type: SaaS, POWERBIVISUALS, DYNAMICSCE or DYNAMICSBC, or several. Binds ScopeId from piped offer-type items.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = OfferTypeEnumSet)]
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = OfferTypeToggleSet)]
        [Alias("ScopeId")]
        [ArgumentCompleter(typeof(OfferTypeCompleter))]
        public string[] OfferType { get; set; } = Array.Empty<string>();

        /// <summary>
        /// <para type="description">Products by name instead of id; wildcards (* ? [a-z]) allowed. A name that matches no product is an error; the others are updated.</para>
        /// </summary>
        [Parameter(Mandatory = true, ParameterSetName = ProductNameEnumSet)]
        [Parameter(Mandatory = true, ParameterSetName = ProductNameToggleSet)]
        [ArgumentCompleter(typeof(ProductNameCompleter))]
        public string[] ProductName { get; set; } = Array.Empty<string>();

        /// <summary>
        /// <para type="description">Every product (or, with -Scope OfferType, every offer type) of the policy, less -Exclude.</para>
        /// </summary>
        [Parameter(Mandatory = true, ParameterSetName = AllEnumSet)]
        [Parameter(Mandatory = true, ParameterSetName = AllToggleSet)]
        public SwitchParameter All { get; set; }

        /// <summary>
        /// <para type="description">With -All: Product (the default) or OfferType.</para>
        /// </summary>
        [Parameter(ParameterSetName = AllEnumSet)]
        [Parameter(ParameterSetName = AllToggleSet)]
        [ValidateSet(CoreDefaults.ProductScope, CoreDefaults.OfferTypeScope)]
        public string Scope { get; set; } = CoreDefaults.ProductScope;

        /// <summary>
        /// <para type="description">With -All: ids or names to leave as they are; wildcards allowed.</para>
        /// </summary>
        [Parameter(ParameterSetName = AllEnumSet)]
        [Parameter(ParameterSetName = AllToggleSet)]
        public string[]? Exclude { get; set; }

        /// <summary>
        /// <para type="description">The new value: Enabled, Disabled, or OnlyTrialsWithoutPaymentMethod (products whose trial needs no payment method; offer types take only Enabled or Disabled).</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = ProductEnumSet)]
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = OfferTypeEnumSet)]
        [Parameter(Mandatory = true, ParameterSetName = ProductNameEnumSet)]
        [Parameter(Mandatory = true, ParameterSetName = AllEnumSet)]
        [ValidateSet(CoreDefaults.Enabled, CoreDefaults.Disabled, CoreDefaults.OnlyTrialsWithoutPaymentMethod)]
        public string Value { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">$true to enable, $false to disable (a string, as in the original module: "True" and "false" bind too).</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = ProductToggleSet)]
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = OfferTypeToggleSet)]
        [Parameter(Mandatory = true, ParameterSetName = ProductNameToggleSet)]
        [Parameter(Mandatory = true, ParameterSetName = AllToggleSet)]
        [ValidateEnabled]
        public string Enabled { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">An access token to use instead of the connection made by Connect-MSCommerce.</para>
        /// </summary>
        [Parameter(Position = 3, ParameterSetName = ProductEnumSet)]
        [Parameter(Position = 3, ParameterSetName = ProductToggleSet)]
        [Parameter(Position = 3, ParameterSetName = OfferTypeEnumSet)]
        [Parameter(Position = 3, ParameterSetName = OfferTypeToggleSet)]
        [Parameter(ParameterSetName = ProductNameEnumSet)]
        [Parameter(ParameterSetName = ProductNameToggleSet)]
        [Parameter(ParameterSetName = AllEnumSet)]
        [Parameter(ParameterSetName = AllToggleSet)]
        public string? Token { get; set; }

        /// <summary>
        /// <para type="description">The tenants to work in, by id or domain (one or several): a partner's customers, reached through delegated admin relationships (GDAP) with the account that connected, or the tenants a multi-tenant application is consented in. The connection's own tenant unless given. Several tenants run concurrently; each output object names its tenant (TenantId), and a tenant that cannot be reached is one error aimed at it while the others go on.</para>
        /// </summary>
        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = ProductEnumSet)]
        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = ProductToggleSet)]
        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = OfferTypeEnumSet)]
        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = OfferTypeToggleSet)]
        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = ProductNameEnumSet)]
        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = ProductNameToggleSet)]
        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = AllEnumSet)]
        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = AllToggleSet)]
        [ValidateCount(1, 1000)]
        [ValidateNotNullOrEmpty]
        public string[]? TenantId { get; set; }

        /// <summary>
        /// <para type="description">The most updates in flight at once when several items are updated (1 to 256; 64 unless given). Within it, the number adapts to the service: it starts at 8, grows while answers come back quickly and halves when the service throttles (429 or 503), and no update is sent while the service's Retry-After is pending.</para>
        /// </summary>
        [Parameter(ParameterSetName = ProductEnumSet)]
        [Parameter(ParameterSetName = ProductToggleSet)]
        [Parameter(ParameterSetName = OfferTypeEnumSet)]
        [Parameter(ParameterSetName = OfferTypeToggleSet)]
        [Parameter(ParameterSetName = ProductNameEnumSet)]
        [Parameter(ParameterSetName = ProductNameToggleSet)]
        [Parameter(ParameterSetName = AllEnumSet)]
        [Parameter(ParameterSetName = AllToggleSet)]
        [ValidateRange(1, CoreDefaults.MaxThrottleLimit)]
        public int ThrottleLimit { get; set; } = CoreDefaults.ThrottleLimit;

        private bool IsToggle => ParameterSetName == ProductToggleSet || ParameterSetName == OfferTypeToggleSet
            || ParameterSetName == ProductNameToggleSet || ParameterSetName == AllToggleSet;

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var plan = Run((stop, sink) => Plan(Client(), stop, sink));
            if (plan == null)
            {
                return;
            }

            foreach (var error in plan.Errors)
            {
                WriteError(ToErrorRecord(error));
            }

            var declined = false;
            foreach (var item in plan.Items)
            {
                if (ShouldProcess(item.Target, item.Action))
                {
                    pending.Add(item);
                }
                else
                {
                    declined = true;
                }
            }

            if (declined)
            {
                WriteHostLine("Updating product policy aborted");
            }
        }

        /// <summary>Runs every update this pipeline asked for, together.</summary>
        protected override void EndProcessing()
        {
            if (pending.Count == 0)
            {
                return;
            }

            var client = Client();
            int? throttle = MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit)) ? ThrottleLimit : (int?)null;
            var outcomes = Run((stop, sink) => client.UpdateProductPolicies(pending, throttle, Token, stop, sink));
            if (outcomes != null)
            {
                WriteOutcomes(outcomes, beforeFirstOutput: () => WriteHostLine("Update policy product success"));
            }
        }

        /// <summary>The items this record names, as the core plans them.</summary>
        private UpdatePlan Plan(CoreClient client, System.Threading.CancellationToken stop, IInvocationSink sink)
        {
            var change = IsToggle ? PolicyChange.ToEnabled(Enabled) : PolicyChange.ToValue(Value);
            switch (ParameterSetName)
            {
                case OfferTypeEnumSet:
                case OfferTypeToggleSet:
                    return client.PlanUpdate(PolicyId, CoreDefaults.OfferTypeScope, OfferType, null, false, null, change, Token, stop, sink, TenantId);
                case ProductNameEnumSet:
                case ProductNameToggleSet:
                    return client.PlanUpdate(PolicyId, CoreDefaults.ProductScope, null, ProductName, false, null, change, Token, stop, sink, TenantId);
                case AllEnumSet:
                case AllToggleSet:
                    return client.PlanUpdate(PolicyId, Scope, null, null, true, Exclude, change, Token, stop, sink, TenantId);
                default:
                    return client.PlanUpdate(PolicyId, CoreDefaults.ProductScope, ProductId, null, false, null, change, Token, stop, sink, TenantId);
            }
        }
    }
}
