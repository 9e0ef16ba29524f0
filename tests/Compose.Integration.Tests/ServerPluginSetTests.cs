using Compose.Generated;
using Compose.Hosting;

namespace Compose.Integration.Tests;

/// <summary>The descriptor table the generator writes, decoded by the runtime: what goes in comes out.</summary>
public sealed class ServerPluginSetTests
{
    [Fact]
    public void GeneratedTableDecodesToTheAttributesValues()
    {
        var descriptors = ComposedServerPlugins.Instance.Descriptors.ToDictionary(d => d.Id);

        Assert.Equal(DependencyOrder.Expected(ComposedServerPlugins.Instance.Descriptors), ComposedServerPlugins.Instance.Descriptors.Select(d => d.Id));
        var probe = descriptors["probe"];
        Assert.Equal("Probe", probe.Name);
        Assert.Equal("Answers pings", probe.Description);
        Assert.Equal(typeof(ProbePlugin), probe.PluginType);
        Assert.Equal("Compose.Integration.Tests", probe.AssemblyName);
        Assert.Empty(probe.Environments);
        Assert.Null(probe.EntryScript);
        Assert.Null(probe.WebAssetsPath);

        var defaults = descriptors["late"];
        Assert.Equal("late", defaults.Name);
        Assert.Equal(string.Empty, defaults.Description);

        Assert.Equal(["Development"], descriptors["dev-only"].Environments);

        var hello = descriptors["hello-world"];
        Assert.Equal("index.js", hello.EntryScript);
        Assert.Equal("_content/Compose.Samples.HelloWorld", hello.WebAssetsPath);
        Assert.Equal(typeof(HelloWorld.HelloWorldPlugin), hello.PluginType);
    }

    [Fact]
    public void TextSurvivesTheTableExactlyExceptTheSeparators()
    {
        var awkward = ComposedServerPlugins.Instance.Descriptors.Single(d => d.Id == "awkward-text");

        Assert.Equal("Ünïcödé \"quoted\" \\ name ✓", awkward.Name);

        // U+001F and U+001E delimit the table; the generator writes a space for them (documented on ServerPluginSet).
        Assert.Equal("Line one\nline two\ttab, 𝄞 and a separator here", awkward.Description);
    }

    [Fact]
    public void PluginsOfOneAssemblyShareItsNameAndVersionStrings()
    {
        var ours = ComposedServerPlugins.Instance.Descriptors.Where(d => d.AssemblyName == "Compose.Integration.Tests").ToList();

        Assert.True(ours.Count > 2);
        Assert.All(ours, d => Assert.Same(ours[0].AssemblyName, d.AssemblyName));
    }

    [Fact]
    public void HandBuiltTableDecodesEveryField()
    {
        var set = new TableSet(
            "a\u001FAlpha\u001FFirst\u001FAcme.A\u001F1.2.3\u001FDevelopment,Staging\u001Fmain.js\u001F_content/Acme.A\u001FExitAsync\u001F\u001F\u001E"u8 +
            "b\u001F\u001F\u001FAcme.A\u001F1.2.3\u001F\u001F\u001F\u001F\u001Fa,c\u001F\u001E"u8);

        var descriptors = set.Descriptors;

        Assert.Equal(2, descriptors.Count);
        var a = descriptors[0];
        Assert.Equal(("a", "Alpha", "First", "Acme.A", "1.2.3"), (a.Id, a.Name, a.Description, a.AssemblyName, a.Version));
        Assert.Equal(["Development", "Staging"], a.Environments);
        Assert.Equal(("main.js", "_content/Acme.A"), (a.EntryScript, a.WebAssetsPath));
        Assert.Equal(typeof(TableSet.PluginA), a.PluginType);
        var b = descriptors[1];
        Assert.Equal(("b", "b", string.Empty), (b.Id, b.Name, b.Description));
        Assert.Empty(b.Environments);
        Assert.Null(b.EntryScript);
        Assert.Same(a.Version, b.Version);
        Assert.Empty(a.DependsOn);
        Assert.Equal(["a", "c"], b.DependsOn);
    }

    [Fact]
    public void EmptyTableHasNoPlugins() => Assert.Empty(new TableSet([]).Descriptors);

    [Theory]
    [InlineData("a\u001FAlpha\u001F\u001F\u001F\u001F\u001F\u001F\u001F\u001F\u001F", "not ended by U+001E")]
    [InlineData("a\u001FAlpha\u001F\u001F\u001F\u001F\u001F\u001F\u001F\u001F\u001E", "does not have 10 fields")]
    [InlineData("a\u001FAlpha\u001F\u001F\u001F\u001F\u001F\u001F\u001F\u001F\u001F\u001F\u001E", "does not have 10 fields")]
    [InlineData("a\u001FAlpha\u001F\u001F\u001F\u001F\u001F\u001F\u001F\u001F\u001Fextra\u001E", "does not have 10 fields")]
    public void MalformedTableNamesTheProblem(string table, string problem)
    {
        var set = new TableSet(System.Text.Encoding.UTF8.GetBytes(table));

        var error = Assert.Throws<InvalidOperationException>(() => set.Descriptors);

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Contains("rebuild", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A set written by hand in the generated shape.</summary>
    private sealed class TableSet(byte[] table) : ServerPluginSet
    {
        public TableSet(ReadOnlySpan<byte> table)
            : this(table.ToArray())
        {
        }

        protected override ReadOnlySpan<byte> Table => table;

        protected override Type GetPluginType(int index) => index switch
        {
            0 => typeof(PluginA),
            1 => typeof(ProbePlugin),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        protected override IServerPlugin CreatePlugin(int index, IServiceProvider services) => throw new NotSupportedException();

        public sealed class PluginA : IServerPlugin
        {
            public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
        }
    }
}
