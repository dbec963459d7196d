using System;
using System.Collections.Concurrent;
using System.IO;
using System.Runtime.Serialization;
using System.Runtime.Serialization.Json;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace MSCommerce.Interop
{
    /// <summary>
    /// JSON through DataContractJsonSerializer, one cached serializer per type. Reading goes
    /// through the serializer's JSON-as-XML view so callers can check a value's JSON type first:
    /// the serializer itself reads an object where an array is expected as an empty array.
    /// Dictionaries are JSON objects (<c>{"NAME":"value"}</c>), not the serializer's default
    /// array of key-value pairs.
    /// </summary>
    internal static class Json
    {
        private static readonly ConcurrentDictionary<Type, DataContractJsonSerializer> Serializers =
            new ConcurrentDictionary<Type, DataContractJsonSerializer>();

        internal static string Serialize<T>(T value)
        {
            using var stream = new MemoryStream();
            // The runtime type: a request is declared as its base, CoreRequest.
            SerializerFor(value?.GetType() ?? typeof(T)).WriteObject(stream, value);
            return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
        }

        /// <summary>Parses <paramref name="json"/>; malformed or mistyped JSON throws a SerializationException.</summary>
        internal static T Deserialize<T>(string json) => Deserialize<T>(Parse(json));

        /// <summary>Parses JSON into its XML view (the <c>type</c> attribute holds each value's JSON type).</summary>
        internal static XElement Parse(string json)
        {
            try
            {
                var bytes = Encoding.UTF8.GetBytes(json);
                using var reader = JsonReaderWriterFactory.CreateJsonReader(bytes, XmlDictionaryReaderQuotas.Max);
                return XElement.Load(reader);
            }
            catch (XmlException e)
            {
                throw new SerializationException("The text is not valid JSON: " + e.Message, e);
            }
        }

        /// <summary>Reads a value parsed by <see cref="Parse"/>, after checking it is an array for an array type and an object otherwise.</summary>
        internal static T Deserialize<T>(XElement element)
        {
            var actual = (string?)element.Attribute("type") ?? "string";
            var expected = typeof(T).IsArray ? "array" : "object";
            if (actual != expected && actual != "null")
            {
                throw new SerializationException("Expected a JSON " + expected + " but found a JSON " + actual + ".");
            }

            using var reader = element.CreateReader();
            return (T)SerializerFor(typeof(T)).ReadObject(reader, verifyObjectName: false)!;
        }

        private static DataContractJsonSerializer SerializerFor(Type type) =>
            Serializers.GetOrAdd(type, t => new DataContractJsonSerializer(t, new DataContractJsonSerializerSettings { UseSimpleDictionaryFormat = true }));
    }
}
