// Usage: MSCommerce.HelpGen <MSCommerce.dll> <MSCommerce.xml (doc comments)> <output MAML file>
using MSCommerce.HelpGen;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: MSCommerce.HelpGen <MSCommerce.dll> <MSCommerce.xml> <output .xml>");
    return 2;
}

try
{
    var maml = HelpGenerator.Generate(args[0], args[1]);
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(args[2]))!);
    var text = maml.Declaration + Environment.NewLine + maml.ToString();
    if (!File.Exists(args[2]) || File.ReadAllText(args[2]) != text)
    {
        File.WriteAllText(args[2], text);
    }

    return 0;
}
catch (HelpException e)
{
    Console.Error.WriteLine("help: " + e.Message);
    return 1;
}
