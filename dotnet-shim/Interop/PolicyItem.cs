namespace MSCommerce.Interop
{
    /// <summary>A product (by product id) or a third-party offer type (such as SaaS) of a policy.</summary>
    public sealed class PolicyItem
    {
        private PolicyItem(string? productId, string? offerType)
        {
            ProductId = productId;
            OfferType = offerType;
        }

        /// <summary>The product id, or null for an offer type.</summary>
        public string? ProductId { get; }

        /// <summary>The offer type, or null for a product.</summary>
        public string? OfferType { get; }

        /// <summary>The id the user gave, whichever kind it is.</summary>
        public string Id => ProductId ?? OfferType ?? string.Empty;

        /// <summary>A product by its id.</summary>
        public static PolicyItem Product(string productId) => new PolicyItem(productId, null);

        /// <summary>An offer type by its id.</summary>
        public static PolicyItem OfferTypeOf(string offerType) => new PolicyItem(null, offerType);
    }

    /// <summary>One item of a policy to update: the policy and the product or offer type.</summary>
    public sealed class PolicyTarget
    {
        /// <summary>Creates the target.</summary>
        public PolicyTarget(string policyId, PolicyItem item)
        {
            PolicyId = policyId;
            Item = item;
        }

        /// <summary>The policy's id, such as <c>AllowSelfServicePurchase</c>.</summary>
        public string PolicyId { get; }

        /// <summary>The product or offer type.</summary>
        public PolicyItem Item { get; }
    }

    /// <summary>The new value of an update: <c>-Value</c>, or <c>-Enabled</c> with the original's string rules (applied by the core).</summary>
    public sealed class PolicyChange
    {
        private PolicyChange(string? value, string? enabled)
        {
            Value = value;
            Enabled = enabled;
        }

        /// <summary>Enabled, Disabled or OnlyTrialsWithoutPaymentMethod.</summary>
        public string? Value { get; }

        /// <summary>The string <c>-Enabled</c> was bound to (<c>True</c>, <c>false</c>, ...).</summary>
        public string? Enabled { get; }

        /// <summary>Sets this value.</summary>
        public static PolicyChange ToValue(string value) => new PolicyChange(value, null);

        /// <summary>Enables (<c>True</c>) or disables (<c>False</c>).</summary>
        public static PolicyChange ToEnabled(string enabled) => new PolicyChange(null, enabled);
    }
}
