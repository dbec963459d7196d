using System.Collections.Generic;
using System.Management.Automation;
using MSCommerce.Interop;

namespace MSCommerce.Commands
{
    /// <summary>
    /// <para type="synopsis">Puts the tenant back to a baseline file: sets only the products and offer types whose value differs.</para>
    /// <para type="description">Compares the tenant with the baseline (as Test-MSCommercePolicy does) and updates each item whose value changed back to the baseline's value, in bulk, at most -ThrottleLimit at a time. Products that appeared since the baseline get the baseline's newProducts value (Export-MSCommercePolicy -NewProducts); without one, items that appeared since are left as they are (a warning names them); items the service no longer lists are skipped. -WhatIf shows the plan: one line per item with its value now and the value it would get. Outputs the updated items; each item that fails is one non-terminating error.</para>
    /// </summary>
    /// <example>
    /// <code>
    /// Import-MSCommercePolicy -Path ./self-service.json -WhatIf
    /// </code>
    /// <para>Shows what would change.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Import-MSCommercePolicy -Path ./self-service.json -Confirm:$false
    /// </code>
    /// <para>Applies the baseline without asking.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Import-MSCommercePolicy -Path ./baseline.json -TenantId adatum.onmicrosoft.com, litware.onmicrosoft.com -WhatIf
    /// </code>
    /// <para>Shows what applying one baseline to two customer tenants would change, tenant by tenant.</para>
    /// </example>
    [Cmdlet(VerbsData.Import, "MSCommercePolicy", DefaultParameterSetName = DefaultParameterSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ProductPolicy), typeof(ScopePolicy), ParameterSetName = new[] { DefaultParameterSet })]
    public sealed class ImportMSCommercePolicyCommand : MSCommerceCmdletBase
    {
        /// <summary>The only parameter set.</summary>
        public const string DefaultParameterSet = "Default";

        /// <summary>
        /// <para type="description">The baseline file written by Export-MSCommercePolicy.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = DefaultParameterSet)]
        [Alias("FullName")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">An access token to use instead of the connection made by Connect-MSCommerce.</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        public string? Token { get; set; }

        /// <summary>
        /// <para type="description">The tenants to work in, by id or domain (one or several): a partner's customers, reached through delegated admin relationships (GDAP) with the account that connected, or the tenants a multi-tenant application is consented in. The connection's own tenant unless given. Several tenants run concurrently; each output object names its tenant (TenantId), and a tenant that cannot be reached is one error aimed at it while the others go on.</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        [ValidateCount(1, 1000)]
        [ValidateNotNullOrEmpty]
        public string[]? TenantId { get; set; }

        /// <summary>
        /// <para type="description">The most updates in flight at once (1 to 256; 64 unless given). Within it, the number adapts to the service: it grows while answers come back quickly and halves when the service throttles, honouring Retry-After.</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        [ValidateRange(1, CoreDefaults.MaxThrottleLimit)]
        public int ThrottleLimit { get; set; } = CoreDefaults.ThrottleLimit;

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var path = FileSystemPath(Path);
            var client = Client();
            var plan = Run((stop, sink) => client.PlanImport(path, Token, stop, sink, TenantId));
            if (plan == null)
            {
                return;
            }

            var approved = new List<PlannedUpdate>();
            foreach (var item in plan.Items)
            {
                if (ShouldProcess(item.Target, item.Action))
                {
                    approved.Add(item);
                }
            }

            if (approved.Count == 0)
            {
                return;
            }

            int? throttle = MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit)) ? ThrottleLimit : (int?)null;
            var outcomes = Run((stop, sink) => client.UpdateProductPolicies(approved, throttle, Token, stop, sink));
            if (outcomes != null)
            {
                WriteOutcomes(outcomes);
            }
        }
    }
}
