using System;
using System.Collections.Generic;

namespace MSCommerce.Interop
{
    /// <summary>
    /// The fast path for replies that are a list of output items (<c>getProductPolicies</c>,
    /// <c>getPolicies</c>, <c>testBaseline</c>): one pass over the envelope's JSON fills the model
    /// objects directly, through the readers generated per kind (<see cref="OutputItemReader"/>).
    /// The general path (<see cref="Json"/>, <see cref="WireMapping"/>) parses the whole reply
    /// into an XML view and runs DataContractJsonSerializer over each item, which cost more than
    /// the native call itself for a thousand products. Anything this path does not expect (a
    /// failure, another shape, an unknown kind, malformed JSON) makes it give up, and the general
    /// path reads the reply again and reports it as before.
    /// </summary>
    internal static class WireReader
    {
        /// <summary>
        /// The items of a successful envelope whose <c>data</c> is an array of output items, each a
        /// <typeparamref name="T"/> that <paramref name="expected"/> accepts, in order; false if
        /// the reply is anything else.
        /// </summary>
        internal static bool TryReadItems<T>(int status, string? json, Predicate<object> expected, out List<T> items)
            where T : class
        {
            items = new List<T>();
            if (status != NativeMethods.Status.Ok || json == null)
            {
                return false;
            }

            try
            {
                return ReadEnvelope(new JsonCursor(json), expected, items);
            }
            catch (FormatException)
            {
                return false;
            }
        }

        private static bool ReadEnvelope<T>(JsonCursor reader, Predicate<object> expected, List<T> items)
            where T : class
        {
            var ok = false;
            var data = false;
            reader.ReadObjectStart();
            for (var name = reader.NextProperty(); name != null; name = reader.NextProperty())
            {
                switch (name)
                {
                    case "ok":
                        ok = reader.ReadBoolean();
                        if (!ok)
                        {
                            return false;
                        }

                        break;
                    case "data":
                        if (reader.TryReadNull() || !ReadItems(reader, expected, items))
                        {
                            return false;
                        }

                        data = true;
                        break;
                    case "error":
                        if (!reader.TryReadNull())
                        {
                            return false;
                        }

                        break;
                    default:
                        return false;
                }
            }

            return ok && data && reader.AtEnd;
        }

        private static bool ReadItems<T>(JsonCursor reader, Predicate<object> expected, List<T> items)
            where T : class
        {
            reader.ReadArrayStart();
            while (reader.NextElement())
            {
                reader.ReadObjectStart();
                // The core's serializer writes an item's tag first; an item that does not start
                // with it is for the general path.
                if (reader.NextProperty() != "kind")
                {
                    return false;
                }

                var kind = reader.ReadString();
                var item = kind == null ? null : OutputItemReader.ReadRest(kind, reader);
                if (!(item is T typed) || !expected(item))
                {
                    return false;
                }

                items.Add(typed);
            }

            return true;
        }
    }
}
