namespace MSCommerce
{
    // The properties, their order and their docs come from the Rust type (Interop/Contracts.g.cs).
    public sealed partial class PolicyDrift
    {
        /// <summary>The item's id.</summary>
        public override string ToString() => Id ?? string.Empty;
    }
}
