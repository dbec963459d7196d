namespace MSCommerce
{
    /// <summary>One product or offer type that differs from a baseline file (Test-MSCommercePolicy).</summary>
    public sealed class PolicyDrift
    {
        /// <summary>The policy's id, such as <c>AllowSelfServicePurchase</c>.</summary>
        public string? PolicyId { get; set; }

        /// <summary><c>Product</c> or <c>OfferType</c>.</summary>
        public string? Scope { get; set; }

        /// <summary>The product id or offer type.</summary>
        public string? Id { get; set; }

        /// <summary>The product's or offer type's name.</summary>
        public string? Name { get; set; }

        /// <summary><c>Changed</c> (the value differs), <c>Added</c> (not in the baseline) or <c>Removed</c> (no longer listed).</summary>
        public string? Change { get; set; }

        /// <summary>The baseline's value; null for an added item.</summary>
        public string? BaselineValue { get; set; }

        /// <summary>The value now; null for a removed item.</summary>
        public string? CurrentValue { get; set; }

        /// <summary>The item's id.</summary>
        public override string ToString() => Id ?? string.Empty;
    }
}
