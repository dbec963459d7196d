// The JSON the native library reads and writes (docs/abi.md), as data contracts for
// DataContractJsonSerializer: it ships with netstandard2.0 and .NET Framework, so the module never
// brings a JSON library that could clash with the one PowerShell itself loads.

using System.Collections.Generic;
using System.Runtime.Serialization;

namespace MSCommerce.Interop
{
    /// <summary>The configuration of <c>mc_client_new</c>.</summary>
    [DataContract]
    internal sealed class ClientConfig
    {
        [DataMember(Name = "environment", Order = 0, EmitDefaultValue = false)]
        public string? Environment { get; set; }

        [DataMember(Name = "serviceUri", Order = 1, EmitDefaultValue = false)]
        public string? ServiceUri { get; set; }

        [DataMember(Name = "authorityUri", Order = 2, EmitDefaultValue = false)]
        public string? AuthorityUri { get; set; }

        [DataMember(Name = "accessToken", Order = 3, EmitDefaultValue = false)]
        public string? AccessToken { get; set; }

        [DataMember(Name = "userAgent", Order = 4, EmitDefaultValue = false)]
        public string? UserAgent { get; set; }

        /// <summary>The environment variables the core uses, as the session has them now (<see cref="SessionVariables"/>).</summary>
        [DataMember(Name = "variables", Order = 5, EmitDefaultValue = false)]
        public Dictionary<string, string>? Variables { get; set; }

        /// <summary><c>Desktop</c> or <c>Core</c> (<see cref="HostEdition"/>).</summary>
        [DataMember(Name = "edition", Order = 6, EmitDefaultValue = false)]
        public string? Edition { get; set; }
    }

    /// <summary>The data of <c>connect</c> and <c>getConnection</c>: never a token.</summary>
    [DataContract]
    internal sealed class ConnectionWire
    {
        [DataMember(Name = "connected")]
        public bool Connected { get; set; }

        [DataMember(Name = "flow")]
        public string? Flow { get; set; }

        [DataMember(Name = "account")]
        public string? Account { get; set; }

        [DataMember(Name = "tenantId")]
        public string? TenantId { get; set; }

        [DataMember(Name = "serviceUri")]
        public string? ServiceUri { get; set; }

        [DataMember(Name = "authorityUri")]
        public string? AuthorityUri { get; set; }

        [DataMember(Name = "expiresOn")]
        public long? ExpiresOn { get; set; }

        [DataMember(Name = "environment")]
        public string? Environment { get; set; }

        [DataMember(Name = "contextScope")]
        public string? ContextScope { get; set; }

        [DataMember(Name = "tokenCache")]
        public string? TokenCache { get; set; }
    }

    /// <summary>The data of <c>disconnect</c>.</summary>
    [DataContract]
    internal sealed class DisconnectWire
    {
        [DataMember(Name = "wasConnected")]
        public bool WasConnected { get; set; }

        [DataMember(Name = "forgotten")]
        public bool Forgotten { get; set; }
    }

    /// <summary>The data of a successful <c>mc_client_new</c>.</summary>
    [DataContract]
    internal sealed class ClientInfo
    {
        [DataMember(Name = "serviceUri")]
        public string? ServiceUri { get; set; }
    }

    /// <summary>
    /// One envelope (every fallible export writes exactly one), without its <c>data</c>: that is
    /// read on its own, once its JSON type has been checked (see <see cref="Json"/>).
    /// </summary>
    [DataContract]
    internal sealed class Envelope
    {
        [DataMember(Name = "ok")]
        public bool Ok { get; set; }

        [DataMember(Name = "error")]
        public EnvelopeError? Error { get; set; }
    }

    /// <summary>The <c>error</c> of a failed envelope.</summary>
    [DataContract]
    internal sealed class EnvelopeError
    {
        [DataMember(Name = "code")]
        public string? Code { get; set; }

        [DataMember(Name = "category")]
        public string? Category { get; set; }

        [DataMember(Name = "terminating")]
        public bool Terminating { get; set; }

        [DataMember(Name = "message")]
        public string? Message { get; set; }

        [DataMember(Name = "target")]
        public string? Target { get; set; }

        [DataMember(Name = "correlationId")]
        public string? CorrelationId { get; set; }

        [DataMember(Name = "httpStatus")]
        public int? HttpStatus { get; set; }

        [DataMember(Name = "details")]
        public string? Details { get; set; }
    }

    /// <summary>
    /// One output item as the library writes it: the union of the three kinds, told apart by
    /// <see cref="Kind"/>. Only the fields of the item's kind are present.
    /// </summary>
    [DataContract]
    internal sealed class WireItem
    {
        internal const string PolicyKind = "Policy";
        internal const string ProductPolicyKind = "ProductPolicy";
        internal const string ScopePolicyKind = "ScopePolicy";
        internal const string PolicyDriftKind = "PolicyDrift";

        [DataMember(Name = "Kind")]
        public string? Kind { get; set; }

        [DataMember(Name = "PolicyId")]
        public string? PolicyId { get; set; }

        [DataMember(Name = "Description")]
        public string? Description { get; set; }

        [DataMember(Name = "DefaultValue")]
        public string? DefaultValue { get; set; }

        [DataMember(Name = "PolicyValue")]
        public string? PolicyValue { get; set; }

        [DataMember(Name = "ProductId")]
        public string? ProductId { get; set; }

        [DataMember(Name = "ProductName")]
        public string? ProductName { get; set; }

        [DataMember(Name = "ScopeId")]
        public string? ScopeId { get; set; }

        [DataMember(Name = "ScopeValue")]
        public string? ScopeValue { get; set; }

        [DataMember(Name = "Scope")]
        public string? Scope { get; set; }

        [DataMember(Name = "Id")]
        public string? Id { get; set; }

        [DataMember(Name = "Name")]
        public string? Name { get; set; }

        [DataMember(Name = "Change")]
        public string? Change { get; set; }

        [DataMember(Name = "BaselineValue")]
        public string? BaselineValue { get; set; }

        [DataMember(Name = "CurrentValue")]
        public string? CurrentValue { get; set; }
    }

    /// <summary>One item of an <c>updateProductPolicies</c> request.</summary>
    [DataContract]
    internal sealed class BulkTargetWire
    {
        [DataMember(Name = "policyId", Order = 0)]
        public string? PolicyId { get; set; }

        [DataMember(Name = "productId", Order = 1, EmitDefaultValue = false)]
        public string? ProductId { get; set; }

        [DataMember(Name = "offerType", Order = 2, EmitDefaultValue = false)]
        public string? OfferType { get; set; }
    }

    /// <summary>One result of <c>updateProductPolicies</c>: the updated item or why it failed.</summary>
    [DataContract]
    internal sealed class BulkResultWire
    {
        [DataMember(Name = "id")]
        public string? Id { get; set; }

        [DataMember(Name = "ok")]
        public bool Ok { get; set; }

        [DataMember(Name = "item")]
        public WireItem? Item { get; set; }

        [DataMember(Name = "error")]
        public EnvelopeError? Error { get; set; }
    }

    /// <summary>The data of <c>selectItems</c>.</summary>
    [DataContract]
    internal sealed class SelectionWire
    {
        [DataMember(Name = "items")]
        public WireItem[]? Items { get; set; }

        [DataMember(Name = "errors")]
        public EnvelopeError[]? Errors { get; set; }
    }

    /// <summary>The data of <c>exportBaseline</c>.</summary>
    [DataContract]
    internal sealed class ExportWire
    {
        [DataMember(Name = "Path")]
        public string? Path { get; set; }

        [DataMember(Name = "PolicyId")]
        public string? PolicyId { get; set; }

        [DataMember(Name = "Products")]
        public int Products { get; set; }

        [DataMember(Name = "OfferTypes")]
        public int OfferTypes { get; set; }
    }

    /// <summary>One candidate of <c>complete</c>.</summary>
    [DataContract]
    internal sealed class CompletionWire
    {
        [DataMember(Name = "value")]
        public string? Value { get; set; }

        [DataMember(Name = "tooltip")]
        public string? Tooltip { get; set; }
    }

    /// <summary>What <c>mc_progress_callback</c> reports.</summary>
    [DataContract]
    internal sealed class ProgressJson
    {
        [DataMember(Name = "activity")]
        public string? Activity { get; set; }

        [DataMember(Name = "status")]
        public string? Status { get; set; }

        [DataMember(Name = "percentComplete")]
        public int? PercentComplete { get; set; }

        [DataMember(Name = "completed")]
        public bool Completed { get; set; }
    }
}
