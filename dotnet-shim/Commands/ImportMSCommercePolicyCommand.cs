using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MSCommerce.Interop;

namespace MSCommerce.Commands
{
    /// <summary>
    /// <para type="synopsis">Puts the tenant back to a baseline file: sets only the products and offer types whose value differs.</para>
    /// <para type="description">Compares the tenant with the baseline (as Test-MSCommercePolicy does) and updates each item whose value changed back to the baseline's value, in bulk, at most -ThrottleLimit at a time. Items that appeared since the baseline are left as they are (a warning names them); items the service no longer lists are skipped. -WhatIf shows the plan: one line per item with its value now and the value it would get. Outputs the updated items; each item that fails is one non-terminating error.</para>
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
    [Cmdlet(VerbsData.Import, "MSCommercePolicy", DefaultParameterSetName = DefaultParameterSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ProductPolicy), typeof(ScopePolicy), ParameterSetName = new[] { DefaultParameterSet })]
    public sealed class ImportMSCommercePolicyCommand : MSCommerceCmdletBase
    {
        /// <summary>The only parameter set.</summary>
        public const string DefaultParameterSet = "Default";

        /// <summary>How many new item ids a warning names before it says "and N more".</summary>
        private const int NamedInWarning = 10;

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
        /// <para type="description">How many updates run at once (1 to 64; 16 unless given).</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 16;

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var path = FileSystemPath(Path);
            var client = Client();
            var drift = Run((stop, sink) => client.TestBaseline(path, Token, stop, sink));
            if (drift == null)
            {
                return;
            }

            var added = drift.Where(d => d.Change == "Added").Select(d => d.Id ?? string.Empty).ToList();
            if (added.Count > 0)
            {
                var named = string.Join(", ", added.Take(NamedInWarning)) + (added.Count > NamedInWarning ? " and " + (added.Count - NamedInWarning) + " more" : string.Empty);
                WriteWarning(added.Count + " items are not in the baseline and are left as they are: " + named + ".");
            }

            foreach (var removed in drift.Where(d => d.Change == "Removed"))
            {
                WriteVerbose("skipped " + removed.Scope + " " + removed.Id + ": the service no longer lists it");
            }

            // One bulk update per target value: a baseline may put some items back to Enabled and others to Disabled.
            var byValue = new Dictionary<string, List<PolicyTarget>>(StringComparer.OrdinalIgnoreCase);
            foreach (var change in drift.Where(d => d.Change == "Changed" && !string.IsNullOrEmpty(d.Id) && !string.IsNullOrEmpty(d.BaselineValue)))
            {
                var described = change.Scope + " " + change.Id + (string.IsNullOrEmpty(change.Name) ? string.Empty : " (" + change.Name + ")");
                if (!ShouldProcess(described, "Set " + change.PolicyId + " from " + change.CurrentValue + " to " + change.BaselineValue))
                {
                    continue;
                }

                var item = change.Scope == "OfferType" ? PolicyItem.OfferTypeOf(change.Id!) : PolicyItem.Product(change.Id!);
                if (!byValue.TryGetValue(change.BaselineValue!, out var targets))
                {
                    byValue[change.BaselineValue!] = targets = new List<PolicyTarget>();
                }

                targets.Add(new PolicyTarget(change.PolicyId ?? string.Empty, item));
            }

            int? throttle = MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit)) ? ThrottleLimit : (int?)null;
            foreach (var group in byValue)
            {
                var value = PolicyChange.ToValue(group.Key);
                var outcomes = Run((stop, sink) => client.UpdateProductPolicies(group.Value, value, throttle, Token, stop, sink));
                if (outcomes == null)
                {
                    return;
                }

                WriteOutcomes(outcomes);
            }
        }
    }
}
