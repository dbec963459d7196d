using System.Collections.Generic;
using System.Runtime.Serialization;

namespace MSCommerce.Interop
{
    /// <summary>One request to <c>mc_invoke</c> (docs/abi.md, "Requests").</summary>
    [DataContract]
    internal sealed class CoreRequest
    {
        internal const string GetPoliciesOp = "getPolicies";
        internal const string GetPolicyOp = "getPolicy";
        internal const string GetProductPoliciesOp = "getProductPolicies";
        internal const string GetProductPolicyOp = "getProductPolicy";
        internal const string UpdateProductPolicyOp = "updateProductPolicy";
        internal const string ConnectOp = "connect";
        internal const string GetConnectionOp = "getConnection";
        internal const string DisconnectOp = "disconnect";
        internal const string UpdateProductPoliciesOp = "updateProductPolicies";
        internal const string SelectItemsOp = "selectItems";
        internal const string ExportBaselineOp = "exportBaseline";
        internal const string TestBaselineOp = "testBaseline";
        internal const string CompleteOp = "complete";

        private CoreRequest(string op, string? token)
        {
            Op = op;
            Token = string.IsNullOrEmpty(token) ? null : token;
        }

        [DataMember(Name = "op", Order = 0)]
        public string Op { get; private set; }

        /// <summary>Set by <see cref="CoreClient"/> so callbacks find their way back; 0 (never used) is left out.</summary>
        [DataMember(Name = "operationId", Order = 1, EmitDefaultValue = false)]
        public ulong OperationId { get; set; }

        /// <summary>The cmdlet's <c>-Token</c>; an empty one counts as none, as in the original module.</summary>
        [DataMember(Name = "token", Order = 2, EmitDefaultValue = false)]
        public string? Token { get; private set; }

        [DataMember(Name = "policyId", Order = 3, EmitDefaultValue = false)]
        public string? PolicyId { get; private set; }

        [DataMember(Name = "scope", Order = 4, EmitDefaultValue = false)]
        public string? Scope { get; private set; }

        [DataMember(Name = "productId", Order = 5, EmitDefaultValue = false)]
        public string? ProductId { get; private set; }

        [DataMember(Name = "offerType", Order = 6, EmitDefaultValue = false)]
        public string? OfferType { get; private set; }

        /// <summary>The cmdlet's <c>-Value</c>.</summary>
        [DataMember(Name = "value", Order = 7, EmitDefaultValue = false)]
        public string? Value { get; private set; }

        /// <summary>The cmdlet's <c>-Enabled</c>, as the string it was bound to; the core applies the original's rules.</summary>
        [DataMember(Name = "enabled", Order = 8, EmitDefaultValue = false)]
        public string? Enabled { get; private set; }

        [DataMember(Name = "flow", Order = 9, EmitDefaultValue = false)]
        public string? Flow { get; private set; }

        [DataMember(Name = "tenantId", Order = 10, EmitDefaultValue = false)]
        public string? TenantId { get; private set; }

        [DataMember(Name = "clientId", Order = 11, EmitDefaultValue = false)]
        public string? ClientId { get; private set; }

        [DataMember(Name = "resource", Order = 12, EmitDefaultValue = false)]
        public string? Resource { get; private set; }

        [DataMember(Name = "redirectUri", Order = 13, EmitDefaultValue = false)]
        public string? RedirectUri { get; private set; }

        [DataMember(Name = "loginHint", Order = 14, EmitDefaultValue = false)]
        public string? LoginHint { get; private set; }

        [DataMember(Name = "contextScope", Order = 15, EmitDefaultValue = false)]
        public string? ContextScope { get; private set; }

        [DataMember(Name = "timeoutSeconds", Order = 16, EmitDefaultValue = false)]
        public double? TimeoutSeconds { get; private set; }

        [DataMember(Name = "forget", Order = 17, EmitDefaultValue = false)]
        public bool Forget { get; private set; }

        [DataMember(Name = "items", Order = 18, EmitDefaultValue = false)]
        public BulkTargetWire[]? Items { get; private set; }

        [DataMember(Name = "throttleLimit", Order = 19, EmitDefaultValue = false)]
        public int? ThrottleLimit { get; private set; }

        [DataMember(Name = "all", Order = 20, EmitDefaultValue = false)]
        public bool All { get; private set; }

        [DataMember(Name = "names", Order = 21, EmitDefaultValue = false)]
        public string[]? Names { get; private set; }

        [DataMember(Name = "exclude", Order = 22, EmitDefaultValue = false)]
        public string[]? Exclude { get; private set; }

        [DataMember(Name = "path", Order = 23, EmitDefaultValue = false)]
        public string? Path { get; private set; }

        [DataMember(Name = "noClobber", Order = 24, EmitDefaultValue = false)]
        public bool NoClobber { get; private set; }

        [DataMember(Name = "kind", Order = 25, EmitDefaultValue = false)]
        public string? Kind { get; private set; }

        [DataMember(Name = "word", Order = 26, EmitDefaultValue = false)]
        public string? Word { get; private set; }

        /// <summary>
        /// Set by <see cref="CoreClient"/> just before the request is sent: the environment
        /// variables the core uses, as the session has them at the time of the call.
        /// </summary>
        [DataMember(Name = "variables", Order = 27, EmitDefaultValue = false)]
        public Dictionary<string, string>? Variables { get; set; }

        internal static CoreRequest Connect(SignInOptions options) =>
            new CoreRequest(ConnectOp, null)
            {
                Flow = options.Flow == SignInFlow.DeviceCode ? "deviceCode" : "browser",
                TenantId = NullIfEmpty(options.TenantId),
                ClientId = NullIfEmpty(options.ClientId),
                Resource = NullIfEmpty(options.Resource),
                RedirectUri = NullIfEmpty(options.RedirectUri),
                LoginHint = NullIfEmpty(options.LoginHint),
                ContextScope = NullIfEmpty(options.ContextScope),
                TimeoutSeconds = options.TimeoutSeconds,
            };

        internal static CoreRequest Disconnect(bool forget) => new CoreRequest(DisconnectOp, null) { Forget = forget };

        internal static CoreRequest GetConnection() => new CoreRequest(GetConnectionOp, null);

        internal static CoreRequest GetPolicies(string? token) => new CoreRequest(GetPoliciesOp, token);

        internal static CoreRequest GetPolicy(string policyId, string? token) =>
            new CoreRequest(GetPolicyOp, token) { PolicyId = policyId };

        internal static CoreRequest GetProductPolicies(string policyId, string? scope, string? token) =>
            new CoreRequest(GetProductPoliciesOp, token) { PolicyId = policyId, Scope = string.IsNullOrEmpty(scope) ? null : scope };

        internal static CoreRequest GetProductPolicy(string policyId, PolicyItem item, string? token) =>
            new CoreRequest(GetProductPolicyOp, token) { PolicyId = policyId, ProductId = item.ProductId, OfferType = item.OfferType };

        internal static CoreRequest UpdateProductPolicy(string policyId, PolicyItem item, PolicyChange change, string? token) =>
            new CoreRequest(UpdateProductPolicyOp, token)
            {
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

            return new CoreRequest(UpdateProductPoliciesOp, token)
            {
                Items = items.ToArray(),
                Value = change.Value,
                Enabled = change.Enabled,
                ThrottleLimit = throttleLimit,
            };
        }

        internal static CoreRequest SelectItems(string policyId, string? scope, bool all, string[]? names, string[]? exclude, string? token) =>
            new CoreRequest(SelectItemsOp, token)
            {
                PolicyId = policyId,
                Scope = NullIfEmpty(scope),
                All = all,
                Names = names == null || names.Length == 0 ? null : names,
                Exclude = exclude == null || exclude.Length == 0 ? null : exclude,
            };

        internal static CoreRequest ExportBaseline(string policyId, string path, bool noClobber, string? token) =>
            new CoreRequest(ExportBaselineOp, token) { PolicyId = policyId, Path = path, NoClobber = noClobber };

        internal static CoreRequest TestBaseline(string path, string? token) =>
            new CoreRequest(TestBaselineOp, token) { Path = path };

        internal static CoreRequest Complete(string kind, string? policyId, string word, string? token) =>
            new CoreRequest(CompleteOp, token) { Kind = kind, PolicyId = NullIfEmpty(policyId), Word = word };

        private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
    }
}
