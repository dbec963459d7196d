namespace MSCommerce
{
    // The properties, their order and their docs come from the Rust type (Interop/Contracts.g.cs).
    public sealed partial class Policy
    {
        /// <summary>The policy's id.</summary>
        public override string ToString() => PolicyId ?? string.Empty;
    }
}
