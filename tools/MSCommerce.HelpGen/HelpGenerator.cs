using System.Collections.ObjectModel;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Xml.Linq;

namespace MSCommerce.HelpGen;

/// <summary>A cmdlet or parameter lacks the documentation the help needs.</summary>
public sealed class HelpException(string message) : Exception(message);

/// <summary>
/// Builds MAML help for every cmdlet in MSCommerce.dll. Text comes from the doc comments
/// (<c>&lt;para type="synopsis"&gt;</c>, <c>&lt;para type="description"&gt;</c> and
/// <c>&lt;example&gt;&lt;code&gt;…&lt;/code&gt;&lt;para&gt;…&lt;/para&gt;&lt;/example&gt;</c>); syntax,
/// parameters and output types come from the attributes, read as metadata without running
/// PowerShell. Missing text is an error, so no cmdlet ships without help.
/// </summary>
public static class HelpGenerator
{
    private const string Automation = "System.Management.Automation.";
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    /// <summary>The MAML document for the cmdlets of <paramref name="shimPath"/>.</summary>
    public static XDocument Generate(string shimPath, string docPath)
    {
        var sma = Path.Combine(AppContext.BaseDirectory, "System.Management.Automation.dll");
        var paths = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll").Append(Path.GetFullPath(shimPath)).Append(sma);
        using var context = new MetadataLoadContext(new PathAssemblyResolver(paths));
        var shim = context.LoadFromAssemblyPath(Path.GetFullPath(shimPath));
        var docs = XDocument.Load(docPath).Descendants("member")
            .ToDictionary(m => (string)m.Attribute("name")!, m => m);

        var cmdlets = shim.GetTypes()
            .Select(t => (Type: t, Attribute: Attribute(t, "CmdletAttribute")))
            .Where(c => c.Attribute != null)
            .OrderBy(c => Name(c.Attribute!), StringComparer.Ordinal)
            .Select(c => CommandElement(c.Type, c.Attribute!, docs));
        return new XDocument(
            new XDeclaration("1.0", "utf-8", null),
            new XElement(Msh + "helpItems", new XAttribute("schema", "maml"), cmdlets));
    }

    private static string Name(CustomAttributeData cmdlet) =>
        cmdlet.ConstructorArguments[0].Value + "-" + cmdlet.ConstructorArguments[1].Value;

    private static XElement CommandElement(Type type, CustomAttributeData cmdlet, IReadOnlyDictionary<string, XElement> docs)
    {
        var name = Name(cmdlet);
        var doc = docs.GetValueOrDefault("T:" + type.FullName) ?? throw new HelpException($"{name} has no doc comment");
        var parameters = Parameters(type, docs, name);
        var sets = parameters.SelectMany(p => p.Sets.Keys).Distinct().OrderBy(s => s == DefaultSet(cmdlet) ? 0 : 1).ThenBy(s => s, StringComparer.Ordinal).ToList();
        var examples = doc.Elements("example").ToList();
        if (examples.Count == 0)
        {
            throw new HelpException($"{name} has no <example>");
        }

        return new XElement(Command + "command",
            new XAttribute(XNamespace.Xmlns + "maml", Maml),
            new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev),
            new XElement(Command + "details",
                new XElement(Command + "name", name),
                new XElement(Command + "verb", cmdlet.ConstructorArguments[0].Value),
                new XElement(Command + "noun", cmdlet.ConstructorArguments[1].Value),
                Description(Para(doc, "synopsis", name))),
            Description(Para(doc, "description", name)),
            new XElement(Command + "syntax", sets.Select(set =>
                new XElement(Command + "syntaxItem",
                    new XElement(Maml + "name", name),
                    parameters.Where(p => p.Sets.ContainsKey(set))
                        .OrderBy(p => p.Sets[set].Position ?? int.MaxValue).ThenBy(p => p.Name, StringComparer.Ordinal)
                        .Select(p => ParameterElement(p, p.Sets[set], withDescription: false))))),
            new XElement(Command + "parameters", parameters.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => ParameterElement(p, p.Merged, withDescription: true))),
            new XElement(Command + "inputTypes",
                new XElement(Command + "inputType",
                    new XElement(Dev + "type", new XElement(Maml + "name", parameters.Any(p => p.Merged.ByPropertyName) ? "Objects with the parameters' properties (by property name)" : "None")))),
            new XElement(Command + "returnValues", OutputTypes(type).Select(t =>
                new XElement(Command + "returnValue", new XElement(Dev + "type", new XElement(Maml + "name", t))))),
            new XElement(Command + "examples", examples.Select((e, i) =>
                new XElement(Command + "example",
                    new XElement(Maml + "title", $"-------------------------- Example {i + 1} --------------------------"),
                    new XElement(Dev + "code", Dedent((string?)e.Element("code") ?? throw new HelpException($"{name} example {i + 1} has no <code>"))),
                    new XElement(Dev + "remarks", e.Elements("para").Select(p => new XElement(Maml + "para", Text(p))))))),
            new XElement(Command + "relatedLinks"));
    }

    private static XElement ParameterElement(ParameterHelp parameter, Binding binding, bool withDescription)
    {
        var element = new XElement(Command + "parameter",
            new XAttribute("required", binding.Mandatory ? "true" : "false"),
            new XAttribute("variableLength", parameter.TypeName.EndsWith("[]", StringComparison.Ordinal) ? "true" : "false"),
            new XAttribute("globbing", "false"),
            new XAttribute("pipelineInput", binding.ByPropertyName ? "True (ByPropertyName)" : "False"),
            new XAttribute("position", binding.Position?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "named"),
            new XElement(Maml + "name", parameter.Name));
        if (withDescription)
        {
            element.Add(Description(parameter.Description));
        }

        if (!parameter.IsSwitch)
        {
            element.Add(new XElement(Command + "parameterValue", new XAttribute("required", "true"), new XAttribute("variableLength", "false"), parameter.ShortTypeName));
        }

        if (withDescription)
        {
            element.Add(new XElement(Dev + "type", new XElement(Maml + "name", parameter.TypeName)));
            if (parameter.ValidValues.Count > 0)
            {
                element.Add(new XElement(Command + "parameterValueGroup", parameter.ValidValues.Select(v =>
                    new XElement(Command + "parameterValue", new XAttribute("required", "false"), new XAttribute("variableLength", "false"), v))));
            }

            element.Add(new XElement(Dev + "defaultValue", "None"));
        }

        return element;
    }

    private static List<ParameterHelp> Parameters(Type type, IReadOnlyDictionary<string, XElement> docs, string cmdletName)
    {
        var result = new List<ParameterHelp>();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var attributes = property.GetCustomAttributesData().Where(a => a.AttributeType.FullName == Automation + "ParameterAttribute").ToList();
            if (attributes.Count == 0)
            {
                continue;
            }

            var doc = docs.GetValueOrDefault("P:" + property.DeclaringType!.FullName + "." + property.Name)
                ?? throw new HelpException($"{cmdletName} -{property.Name} has no doc comment");
            var sets = attributes.ToDictionary(
                a => (string?)Named(a, "ParameterSetName") ?? "__AllParameterSets",
                a => new Binding((int?)Named(a, "Position") is int p && p >= 0 ? p : null, (bool?)Named(a, "Mandatory") ?? false, (bool?)Named(a, "ValueFromPipelineByPropertyName") ?? false));
            var validate = property.GetCustomAttributesData().SingleOrDefault(a => a.AttributeType.FullName == Automation + "ValidateSetAttribute");
            var values = validate == null
                ? []
                : ((ReadOnlyCollection<CustomAttributeTypedArgument>)validate.ConstructorArguments[0].Value!).Select(v => (string)v.Value!).ToList();
            result.Add(new ParameterHelp(property.Name, property.PropertyType, Para(doc, "description", cmdletName + " -" + property.Name), sets, values));
        }

        return result;
    }

    private static IEnumerable<string> OutputTypes(Type type)
    {
        var names = type.GetCustomAttributesData()
            .Where(a => a.AttributeType.FullName == Automation + "OutputTypeAttribute")
            .SelectMany(a => (ReadOnlyCollection<CustomAttributeTypedArgument>)a.ConstructorArguments[0].Value!)
            .Select(t => ((Type)t.Value!).FullName!)
            .Where(n => n != "System.Void")
            .Distinct()
            .ToList();
        return names.Count == 0 ? ["None"] : names;
    }

    private static string? DefaultSet(CustomAttributeData cmdlet) => (string?)Named(cmdlet, "DefaultParameterSetName");

    private static CustomAttributeData? Attribute(Type type, string name) =>
        type.GetCustomAttributesData().SingleOrDefault(a => a.AttributeType.FullName == Automation + name);

    private static object? Named(CustomAttributeData attribute, string name) =>
        attribute.NamedArguments.Where(a => a.MemberName == name).Select(a => a.TypedValue.Value).SingleOrDefault();

    private static string Para(XElement member, string type, string what) =>
        member.Element("summary")?.Elements("para").Where(p => (string?)p.Attribute("type") == type).Select(Text).SingleOrDefault()
        ?? throw new HelpException($"{what} has no <para type=\"{type}\">");

    private static XElement Description(string text) => new(Maml + "description", new XElement(Maml + "para", text));

    private static string Text(XElement element) => string.Join(" ", element.Value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static string Dedent(string code)
    {
        var lines = code.Replace("\r\n", "\n").Split('\n').SkipWhile(string.IsNullOrWhiteSpace).Reverse().SkipWhile(string.IsNullOrWhiteSpace).Reverse().ToList();
        var indent = lines.Where(l => l.Trim().Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }

    private sealed record Binding(int? Position, bool Mandatory, bool ByPropertyName);

    private sealed class ParameterHelp(string name, Type type, string description, Dictionary<string, Binding> sets, List<string> validValues)
    {
        public string Name { get; } = name;

        public string Description { get; } = description;

        public Dictionary<string, Binding> Sets { get; } = sets;

        public List<string> ValidValues { get; } = validValues;

        public bool IsSwitch => type.FullName == Automation + "SwitchParameter";

        public string TypeName => type.FullName!;

        public string ShortTypeName => type.Name;

        /// <summary>The parameters section shows one line per parameter: its position when every set agrees.</summary>
        public Binding Merged
        {
            get
            {
                var positions = Sets.Values.Select(b => b.Position).Distinct().ToList();
                return new Binding(
                    positions.Count == 1 ? positions[0] : null,
                    Sets.Values.All(b => b.Mandatory),
                    Sets.Values.Any(b => b.ByPropertyName));
            }
        }
    }
}
