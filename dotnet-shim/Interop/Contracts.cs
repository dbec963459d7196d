// The envelope every fallible export writes (docs/abi.md, "Envelope"). Everything inside it, and
// every request, is generated from the Rust wire types into Contracts.g.cs. DataContractJsonSerializer
// ships with netstandard2.0 and .NET Framework, so the module never brings a JSON library that
// could clash with the one PowerShell itself loads.

using System.Runtime.Serialization;

namespace MSCommerce.Interop
{
    /// <summary>
    /// One envelope, without its <c>data</c>: that is read on its own, once its JSON type has
    /// been checked (see <see cref="Json"/>).
    /// </summary>
    [DataContract]
    internal sealed class Envelope
    {
        [DataMember(Name = "ok")]
        public bool Ok { get; set; }

        [DataMember(Name = "error")]
        public ErrorReplyWire? Error { get; set; }
    }
}
