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

        internal static CoreRequest GetPolicies(string? token) => new CoreRequest(GetPoliciesOp, token);

        internal static CoreRequest GetPolicy(string policyId, string? token) =>
            new CoreRequest(GetPolicyOp, token) { PolicyId = policyId };

        internal static CoreRequest GetProductPolicies(string policyId, string? scope, string? token) =>
            new CoreRequest(GetProductPoliciesOp, token) { PolicyId = policyId, Scope = string.IsNullOrEmpty(scope) ? null : scope };
    }
}
