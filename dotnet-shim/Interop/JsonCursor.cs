using System;
using System.Globalization;
using System.Text;

namespace MSCommerce.Interop
{
    /// <summary>
    /// A forward-only reader over one JSON text, for the replies whose output items are read
    /// straight into the model objects (<see cref="WireReader"/>, and the per-kind readers
    /// generated into Contracts.g.cs). It reads only what the library's serializer writes, and
    /// anything else, including malformed JSON, is a <see cref="FormatException"/>: the caller then
    /// reads the reply the general way, which reports it.
    /// </summary>
    internal sealed class JsonCursor
    {
        private readonly string text;
        private int position;

        internal JsonCursor(string text) => this.text = text;

        /// <summary>True once only whitespace is left.</summary>
        internal bool AtEnd
        {
            get
            {
                SkipWhitespace();
                return position == text.Length;
            }
        }

        /// <summary>Reads <c>{</c>.</summary>
        internal void ReadObjectStart() => Expect('{');

        /// <summary>Reads <c>[</c>.</summary>
        internal void ReadArrayStart() => Expect('[');

        /// <summary>
        /// Moves to the next member of the object being read and returns its name, past the colon;
        /// null at the closing brace, which it reads.
        /// </summary>
        internal string? NextProperty()
        {
            SkipWhitespace();
            var c = Peek();
            if (c == '}')
            {
                position++;
                return null;
            }

            if (c == ',')
            {
                position++;
                SkipWhitespace();
            }

            var name = ReadStringToken();
            Expect(':');
            return name;
        }

        /// <summary>True before the next element of the array being read; false at the closing bracket, which it reads.</summary>
        internal bool NextElement()
        {
            SkipWhitespace();
            var c = Peek();
            if (c == ']')
            {
                position++;
                return false;
            }

            if (c == ',')
            {
                position++;
            }

            return true;
        }

        /// <summary>True if the next value is <c>null</c>, which it then reads.</summary>
        internal bool TryReadNull()
        {
            SkipWhitespace();
            if (string.CompareOrdinal(text, position, "null", 0, 4) == 0)
            {
                position += 4;
                return true;
            }

            return false;
        }

        /// <summary>Reads <c>true</c> or <c>false</c>.</summary>
        internal bool ReadBoolean()
        {
            SkipWhitespace();
            if (string.CompareOrdinal(text, position, "true", 0, 4) == 0)
            {
                position += 4;
                return true;
            }

            if (string.CompareOrdinal(text, position, "false", 0, 5) == 0)
            {
                position += 5;
                return false;
            }

            throw Malformed("true or false");
        }

        /// <summary>Reads a string or <c>null</c>.</summary>
        internal string? ReadString() => TryReadNull() ? null : ReadStringToken();

        /// <summary>Reads past the next value, whatever it is.</summary>
        internal void SkipValue()
        {
            SkipWhitespace();
            switch (Peek())
            {
                case '"':
                    ReadStringToken();
                    return;
                case '{':
                    position++;
                    while (NextProperty() != null)
                    {
                        SkipValue();
                    }

                    return;
                case '[':
                    position++;
                    while (NextElement())
                    {
                        SkipValue();
                    }

                    return;
                case 't':
                case 'f':
                    ReadBoolean();
                    return;
                case 'n':
                    if (!TryReadNull())
                    {
                        throw Malformed("a value");
                    }

                    return;
                default:
                    var start = position;
                    while (position < text.Length && "+-.0123456789eE".IndexOf(text[position]) >= 0)
                    {
                        position++;
                    }

                    if (position == start)
                    {
                        throw Malformed("a value");
                    }

                    return;
            }
        }

        private string ReadStringToken()
        {
            SkipWhitespace();
            if (Peek() != '"')
            {
                throw Malformed("a string");
            }

            var start = ++position;
            // Most strings have no escapes: one substring, no builder.
            while (position < text.Length)
            {
                var c = text[position];
                if (c == '"')
                {
                    return text.Substring(start, position++ - start);
                }

                if (c == '\\')
                {
                    return ReadEscapedString(start);
                }

                position++;
            }

            throw Malformed("the end of a string");
        }

        private string ReadEscapedString(int start)
        {
            var builder = new StringBuilder(text, start, position - start, position - start + 16);
            while (position < text.Length)
            {
                var c = text[position++];
                if (c == '"')
                {
                    return builder.ToString();
                }

                if (c != '\\')
                {
                    builder.Append(c);
                    continue;
                }

                if (position >= text.Length)
                {
                    break;
                }

                var escape = text[position++];
                switch (escape)
                {
                    case '"':
                    case '\\':
                    case '/':
                        builder.Append(escape);
                        break;
                    case 'b':
                        builder.Append('\b');
                        break;
                    case 'f':
                        builder.Append('\f');
                        break;
                    case 'n':
                        builder.Append('\n');
                        break;
                    case 'r':
                        builder.Append('\r');
                        break;
                    case 't':
                        builder.Append('\t');
                        break;
                    case 'u':
                        if (position + 4 > text.Length
                            || !int.TryParse(text.Substring(position, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                        {
                            throw Malformed("four hex digits");
                        }

                        // A surrogate pair arrives as two escapes, each appended as it is.
                        builder.Append((char)code);
                        position += 4;
                        break;
                    default:
                        throw Malformed("an escape");
                }
            }

            throw Malformed("the end of a string");
        }

        private void Expect(char expected)
        {
            SkipWhitespace();
            if (Peek() != expected)
            {
                throw Malformed("'" + expected + "'");
            }

            position++;
        }

        private char Peek() => position < text.Length ? text[position] : '\0';

        private void SkipWhitespace()
        {
            while (position < text.Length)
            {
                var c = text[position];
                if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
                {
                    return;
                }

                position++;
            }
        }

        private FormatException Malformed(string expected) =>
            new FormatException("Expected " + expected + " at offset " + position + ".");
    }
}
