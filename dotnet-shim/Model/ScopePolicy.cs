namespace MSCommerce
{
    // The properties, their order and their docs come from the Rust type (Interop/Contracts.g.cs).
    public sealed partial class ScopePolicy
    {
        /// <summary>The id of the scope's member.</summary>
        public override string ToString() => ScopeId ?? string.Empty;
    }
}
