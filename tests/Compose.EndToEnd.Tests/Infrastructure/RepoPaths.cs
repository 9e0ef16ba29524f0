namespace Compose.EndToEnd.Tests.Infrastructure;

/// <summary>Paths inside the repository these tests drive with the dotnet CLI.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>Gets the repository root: the first folder above the test assembly that holds Compose.sln.</summary>
    public static string Root => LazyRoot.Value;

    public static string AbstractionsProject => Path.Combine(Root, "src", "Abstractions", "Compose.Abstractions.csproj");

    public static string HelloWorldProject => Path.Combine(Root, "samples", "HelloWorld", "HelloWorld.csproj");

    public static string LlmProxyProject => Path.Combine(Root, "samples", "LlmProxy", "LlmProxy.csproj");

    public static string TestingProject => Path.Combine(Root, "src", "Testing", "Compose.Testing.csproj");

    public static string TemplatesProject => Path.Combine(Root, "src", "Templates", "Compose.Templates.csproj");

    public static string PostgreSqlProject => Path.Combine(Root, "src", "PostgreSql", "Compose.PostgreSql.csproj");

    public static string GatewayProject => Path.Combine(Root, "src", "Gateway", "Compose.Gateway.csproj");

    public static string ReadMe => Path.Combine(Root, "README.md");

    public static string TestingDoc => Path.Combine(Root, "docs", "testing.md");

    /// <summary>Gets the version every package of the repository carries (VersionPrefix in Directory.Build.props).</summary>
    public static string VersionPrefix => System.Xml.Linq.XDocument.Load(Path.Combine(Root, "Directory.Build.props")).Descendants("VersionPrefix").Single().Value;

    public static string HostProject => Path.Combine(Root, "samples", "Host", "Host.csproj");

    public static string NuGetConfig => Path.Combine(Root, "nuget.config");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Compose.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} contains Compose.sln.");
    }
}
