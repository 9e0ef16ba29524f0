using Compose.Generated;
using Compose.Hosting;

namespace Compose.Integration.Tests;

/// <summary>The descriptors the generator writes, as the runtime reads them: what goes in comes out.</summary>
public sealed class ServerPluginSetTests
{
    [Fact]
    public void GeneratedDescriptorsCarryTheAttributesValues()
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
    public void TextSurvivesTheGeneratedCodeExactly()
    {
        var awkward = ComposedServerPlugins.Instance.Descriptors.Single(d => d.Id == "awkward-text");

        Assert.Equal("Ünïcödé \"quoted\" \\ name ✓", awkward.Name);
        Assert.Equal("Line one\nline two\ttab, 𝄞, separators\u001F\u001E, NUL\0, \r\u0085\u2028\u2029 and a lone \uD800 surrogate", awkward.Description);
    }

    [Fact]
    public void PluginsOfOneAssemblyShareItsNameAndVersionStrings()
    {
        var ours = ComposedServerPlugins.Instance.Descriptors.Where(d => d.AssemblyName == "Compose.Integration.Tests").ToList();

        Assert.True(ours.Count > 2);
        Assert.All(ours, d => Assert.Same(ours[0].AssemblyName, d.AssemblyName));
        Assert.All(ours, d => Assert.Same(ours[0].Version, d.Version));
    }

    [Fact]
    public void DescriptorsAreCreatedOnce_InIndexOrder()
    {
        var set = new HandWrittenSet(2);

        var first = set.Descriptors;
        var second = set.Descriptors;

        Assert.Equal(["a", "b"], first.Select(d => d.Id));
        Assert.Equal([0, 1], set.Requested);
        Assert.Same(first[0], second[0]);
        Assert.Equal(typeof(HandWrittenSet.PluginA), first[0].PluginType);
    }

    [Fact]
    public void EmptySetHasNoPlugins() => Assert.Empty(new HandWrittenSet(0).Descriptors);

    [Fact]
    public void NegativeCountIsAnErrorNamingTheSet()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new HandWrittenSet(-1).Descriptors);

        Assert.Contains("HandWrittenSet.Count is -1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NullDescriptorIsAnErrorNamingTheIndex()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new HandWrittenSet(3).Descriptors);

        Assert.Contains("GetDescriptor(2) returned null", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A set written by hand in the generated shape; its third descriptor is null.</summary>
    private sealed class HandWrittenSet(int count) : ServerPluginSet
    {
        public List<int> Requested { get; } = [];

        protected override int Count => count;

        protected override ServerPluginDescriptor GetDescriptor(int index)
        {
            Requested.Add(index);
            return index switch
            {
                0 => new("a", "Alpha", "First", typeof(PluginA), "Acme.A", "1.2.3"),
                1 => new("b", null, null, typeof(ProbePlugin), "Acme.A", "1.2.3", dependsOn: new string[] { "a" }),
                2 => null!,
                _ => throw new ArgumentOutOfRangeException(nameof(index)),
            };
        }

        protected override bool HasExitAsync(int index) => index == 1;

        protected override IServerPlugin CreatePlugin(int index, IServiceProvider services) => throw new NotSupportedException();

        public sealed class PluginA : IServerPlugin
        {
            public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
        }
    }
}
