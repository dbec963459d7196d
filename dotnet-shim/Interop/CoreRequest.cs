using System.Collections.Generic;

namespace MSCommerce.Interop
{
    /// <summary>
    /// The requests of <c>mc_invoke</c> (docs/abi.md, "Requests"): each operation's class and
    /// fields are generated from the Rust wire types (<c>Contracts.g.cs</c>); these factories
    /// only say which cmdlet values go where.
    /// </summary>
    internal abstract partial class CoreRequest
    {
        /// <summary>A certificate goes as <paramref name="certificate"/>, registered with the signer by the caller.</summary>
        internal static CoreRequest Connect(SignInOptions options, RawCertificateWire? certificate) =>
            new ConnectRequest
            {
                Flow = FlowName(options.Flow),
                TenantId = NullIfEmpty(options.TenantId),
                ClientId = NullIfEmpty(options.ClientId),
                Resource = NullIfEmpty(options.Resource),
                RedirectUri = NullIfEmpty(options.RedirectUri),
                LoginHint = NullIfEmpty(options.LoginHint),
                ContextScope = NullIfEmpty(options.ContextScope),
                TimeoutSeconds = options.TimeoutSeconds,
                ClientSecret = NullIfEmpty(options.ClientSecret),
                Certificate = certificate,
            };

        private static string FlowName(SignInFlow flow)
        {
            switch (flow)
            {
                case SignInFlow.DeviceCode:
                    return "deviceCode";
                case SignInFlow.ClientSecret:
                    return "clientSecret";
                case SignInFlow.Certificate:
                    return "certificate";
                case SignInFlow.ManagedIdentity:
                    return "managedIdentity";
                case SignInFlow.Environment:
                    return "environment";
                default:
                    return "browser";
            }
        }

        internal static CoreRequest Disconnect(bool forget) => new DisconnectRequest { Forget = TrueOrNull(forget) };

        internal static CoreRequest GetConnection() => new GetConnectionRequest();

        /// <summary>The cmdlet's <c>-Token</c>: an empty one counts as none, as in the original module.</summary>
        internal static CoreRequest GetPolicies(string? token) => new GetPoliciesRequest { Token = NullIfEmpty(token) };

        internal static CoreRequest GetPolicy(string policyId, string? token) =>
            new GetPolicyRequest { Token = NullIfEmpty(token), PolicyId = policyId };

        internal static CoreRequest GetProductPolicies(string policyId, string? scope, string? token) =>
            new GetProductPoliciesRequest { Token = NullIfEmpty(token), PolicyId = policyId, Scope = NullIfEmpty(scope) };

        internal static CoreRequest GetProductPolicy(string policyId, PolicyItem item, string? token) =>
            new GetProductPolicyRequest { Token = NullIfEmpty(token), PolicyId = policyId, ProductId = item.ProductId, OfferType = item.OfferType };

        /// <summary><c>-Enabled</c> goes as the string it was bound to: the core applies the original's rules.</summary>
        internal static CoreRequest UpdateProductPolicy(string policyId, PolicyItem item, PolicyChange change, string? token) =>
            new UpdateProductPolicyRequest
            {
                Token = NullIfEmpty(token),
                PolicyId = policyId,
                ProductId = item.ProductId,
                OfferType = item.OfferType,
                Value = change.Value,
                Enabled = change.Enabled,
            };

        internal static CoreRequest UpdateProductPolicies(IEnumerable<PolicyTarget> targets, PolicyChange change, int? throttleLimit, string? token)
        {
            var items = new List<BulkTargetWire>();
            foreach (var target in targets)
            {
                items.Add(new BulkTargetWire { PolicyId = target.PolicyId, ProductId = target.Item.ProductId, OfferType = target.Item.OfferType });
            }

            return new UpdateProductPoliciesRequest
            {
                Token = NullIfEmpty(token),
                Items = items.ToArray(),
                Value = change.Value,
                Enabled = change.Enabled,
                ThrottleLimit = throttleLimit is int limit ? (ulong)limit : null,
            };
        }

        /// <summary>Items a plan gave, each with its value.</summary>
        internal static CoreRequest UpdateProductPolicies(BulkTargetWire[] items, int? throttleLimit, string? token) =>
            new UpdateProductPoliciesRequest
            {
                Token = NullIfEmpty(token),
                Items = items,
                ThrottleLimit = throttleLimit is int limit ? (ulong)limit : null,
            };

        internal static CoreRequest PlanUpdate(string policyId, string? scope, string[]? ids, string[]? names, bool all, string[]? exclude, PolicyChange change, string? token) =>
            new PlanUpdateRequest
            {
                Token = NullIfEmpty(token),
                PolicyId = policyId,
                Scope = NullIfEmpty(scope),
                Ids = ids,
                Names = names == null || names.Length == 0 ? null : names,
                All = TrueOrNull(all),
                Exclude = exclude == null || exclude.Length == 0 ? null : exclude,
                Value = change.Value,
                Enabled = change.Enabled,
            };

        internal static CoreRequest PlanImport(string path, string? token) =>
            new PlanImportRequest { Token = NullIfEmpty(token), Path = path };

        internal static CoreRequest SelectItems(string policyId, string? scope, bool all, string[]? names, string[]? exclude, string? token) =>
            new SelectItemsRequest
            {
                Token = NullIfEmpty(token),
                PolicyId = policyId,
                Scope = NullIfEmpty(scope),
                All = TrueOrNull(all),
                Names = names == null || names.Length == 0 ? null : names,
                Exclude = exclude == null || exclude.Length == 0 ? null : exclude,
            };

        internal static CoreRequest ExportBaseline(string policyId, string path, bool noClobber, string? token, string? newProducts) =>
            new ExportBaselineRequest { Token = NullIfEmpty(token), PolicyId = policyId, Path = path, NoClobber = TrueOrNull(noClobber), NewProducts = NullIfEmpty(newProducts) };

        internal static CoreRequest TestBaseline(string path, string? token) =>
            new TestBaselineRequest { Token = NullIfEmpty(token), Path = path };

        internal static CoreRequest Complete(string kind, string? policyId, string word, string? token) =>
            new CompleteRequest { Token = NullIfEmpty(token), Kind = kind, PolicyId = NullIfEmpty(policyId), Word = word };

        private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

        // A false flag is left out, as the core's default.
        private static bool? TrueOrNull(bool flag) => flag ? true : null;
    }
}
