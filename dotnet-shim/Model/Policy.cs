namespace MSCommerce
{
    /// <summary>A policy of the licensing service, as Get-MSCommercePolicies and Get-MSCommercePolicy write it.</summary>
    public sealed class Policy
    {
        /// <summary>The policy's id, such as <c>AllowSelfServicePurchase</c>.</summary>
        public string? PolicyId { get; set; }

        /// <summary>What the policy controls.</summary>
        public string? Description { get; set; }

        /// <summary>The value products have until an admin sets one.</summary>
        public string? DefaultValue { get; set; }

        /// <summary>The policy's id.</summary>
        public override string ToString() => PolicyId ?? string.Empty;
    }
}
