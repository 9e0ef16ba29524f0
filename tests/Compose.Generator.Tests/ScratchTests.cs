using Xunit.Abstractions;
namespace Compose.Generator.Tests;
public sealed class ScratchTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Show()
    {
        foreach (var shape in RouteCorpusTests.Corpus)
        {
            foreach (var d in await RouteAnalyzerTests.AnalyzeAsync(shape.Late, "private static readonly string[] Paths = [\"/a\"]; private static Task<bool> IsEnabledAsync() => Task.FromResult(true); private static async IAsyncEnumerable<string> PathsAsync() { await Task.Yield(); yield return \"/c\"; } public event EventHandler? Changed; private void OnChanged() => Changed?.Invoke(this, EventArgs.Empty); private static readonly Dictionary<string, string> Greetings = new();\n" + shape.Members, shape.Types))
                output.WriteLine(shape.Name + " :: " + d.GetMessage() + " @" + d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan).Split('\n')[0] + " +" + d.AdditionalLocations.Count);
        }
    }
}
