namespace MSCommerce
{
    /// <summary>A policy's value for a scope other than a product, such as an offer type.</summary>
    public sealed class ScopePolicy
    {
        /// <summary>The policy's id, such as <c>AllowSelfServicePurchase</c>.</summary>
        public string? PolicyId { get; set; }

        /// <summary><c>Enabled</c> or <c>Disabled</c>.</summary>
        public string? PolicyValue { get; set; }

        /// <summary>The id of the scope's member, such as an offer type.</summary>
        public string? ScopeId { get; set; }

        /// <summary>The member's display value.</summary>
        public string? ScopeValue { get; set; }

        /// <summary>The scope, such as <c>OfferType</c>.</summary>
        public string? Scope { get; set; }

        /// <summary>The id of the scope's member.</summary>
        public override string ToString() => ScopeId ?? string.Empty;
    }
}
