using Compose.EndToEnd.Tests.Infrastructure;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// The code fixes work outside the IDE: <c>dotnet format analyzers</c> on a real plugin project that references the
/// packed Compose.Abstractions (analyzers and code fixes under analyzers/dotnet/cs) rewrites invalid plugin ids,
/// and the project then builds without them.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(EndToEndCollection.Name)]
public sealed class DotNetFormatTests(PackedFeedFixture feed)
{
    [Fact]
    public async Task DotNetFormatFixesInvalidPluginIdsInEveryFile()
    {
        feed.EnsurePacked();
        using var temp = new TempDirectory("dotnet-format");
        var directory = temp.Sub("Acme.Plugins");
        File.WriteAllText(Path.Combine(directory, "Acme.Plugins.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <FrameworkReference Include="Microsoft.AspNetCore.App" />
                <PackageReference Include="{PackedFeedFixture.AbstractionsId}" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """);
        var first = WritePlugin(directory, "ShoutingPlugin", "Shouting.Plugin");
        var second = WritePlugin(directory, "NotesPlugin", "MyNotes");
        IsolatedProject.Write(directory, temp.Sub("nuget-packages"), feed.Feed);

        var before = await DotNet.RunAsync(directory, "build", "Acme.Plugins.csproj");
        Assert.NotEqual(0, before.ExitCode);
        Assert.Contains("error CMP0001", before.Output, StringComparison.Ordinal);

        var format = await ChildProcess.RunAsync(
            DotNet.Executable,
            ["format", "analyzers", "Acme.Plugins.csproj", "--diagnostics", "CMP0001", "--severity", "error", "--verbosity", "detailed"],
            directory,
            DotNet.CommandTimeout);

        Assert.True(format.ExitCode == 0, format.Describe());
        Assert.Contains("[ServerPlugin(\"shouting-plugin\")]", File.ReadAllText(first), StringComparison.Ordinal);
        Assert.Contains("[ServerPlugin(\"my-notes\")]", File.ReadAllText(second), StringComparison.Ordinal);

        var after = await DotNet.RunAsync(directory, "build", "Acme.Plugins.csproj");
        Assert.True(after.ExitCode == 0, after.Describe());
        Assert.DoesNotContain("CMP0001", after.Output, StringComparison.Ordinal);
    }

    private static string WritePlugin(string directory, string className, string id)
    {
        var path = Path.Combine(directory, className + ".cs");
        File.WriteAllText(path, $$"""
            using Compose;
            using Microsoft.AspNetCore.Builder;
            using Microsoft.AspNetCore.Routing;

            namespace Acme.Plugins;

            [ServerPlugin("{{id}}")]
            public sealed class {{className}} : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    router.MapGet("/ping", () => "pong");
                    return Task.CompletedTask;
                }
            }
            """);
        return path;
    }
}
