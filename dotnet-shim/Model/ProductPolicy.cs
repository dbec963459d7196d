namespace MSCommerce
{
    // The properties, their order and their docs come from the Rust type (Interop/Contracts.g.cs).
    public sealed partial class ProductPolicy
    {
        /// <summary>The product's id.</summary>
        public override string ToString() => ProductId ?? string.Empty;
    }
}
