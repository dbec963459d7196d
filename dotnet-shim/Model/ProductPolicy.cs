namespace MSCommerce
{
    /// <summary>
    /// A policy's value for one product. The properties are declared in the order the original
    /// module prints them on Windows PowerShell 5.1 (PolicyValue, ProductId, PolicyId, ProductName):
    /// scripts split its table rows on whitespace in that order.
    /// </summary>
    public sealed class ProductPolicy
    {
        /// <summary><c>Enabled</c>, <c>Disabled</c> or <c>OnlyTrialsWithoutPaymentMethod</c>.</summary>
        public string? PolicyValue { get; set; }

        /// <summary>The product's id, such as <c>CFQ7TTC0KP0P</c>.</summary>
        public string? ProductId { get; set; }

        /// <summary>The policy's id, such as <c>AllowSelfServicePurchase</c>.</summary>
        public string? PolicyId { get; set; }

        /// <summary>The product's name.</summary>
        public string? ProductName { get; set; }

        /// <summary>The product's id.</summary>
        public override string ToString() => ProductId ?? string.Empty;
    }
}
