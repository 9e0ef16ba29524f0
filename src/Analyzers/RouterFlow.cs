using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Compose.Analyzers;

/// <summary>A rule broken somewhere in the analysed code.</summary>
internal readonly record struct Finding(DiagnosticDescriptor Descriptor, Location Location, string Detail);

/// <summary>
/// Follows the router through a method's control flow graph: which locals and flow captures alias it, which
/// blocks run after an await (loops included, finally and catch regions approximated conservatively), where it
/// is used, captured, stored or handed to other methods of the compilation (analysed a few levels deep).
/// </summary>
internal sealed class RouterFlow(KnownSymbols symbols, Compilation compilation, CancellationToken cancellationToken)
{
    private const int MaxHelperDepth = 3;

    private static readonly HashSet<string> CollectionAdders = new(StringComparer.Ordinal)
    {
        "Add", "AddRange", "Insert", "Enqueue", "Push", "TryAdd", "GetOrAdd", "AddOrUpdate", "Append", "Prepend", "Set", "SetValue", "TryAddSingleton",
    };

    private readonly Dictionary<(ISymbol Method, int Ordinal), HelperSummary> _helpers = new(new SymbolOrdinalComparer());

    public List<Finding> AnalyzeMethod(ControlFlowGraph graph, IParameterSymbol router)
    {
        var findings = new List<Finding>();
        AnalyzeGraph(new Scope(graph, null), [router], startsAfterAwait: false, depth: 0, findings);
        return findings
            .GroupBy(f => (f.Descriptor.Id, f.Location.SourceSpan))
            .Select(g => g.First())
            .OrderBy(f => f.Location.SourceSpan.Start)
            .ToList();
    }

    private void AnalyzeGraph(Scope scope, IEnumerable<ISymbol> roots, bool startsAfterAwait, int depth, List<Finding> findings)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var graph = scope.Graph;
        var aliases = new Aliases(symbols, roots);
        aliases.Discover(graph);

        var blocks = graph.Blocks;
        var hasAwait = blocks.Select(b => Operations(b).Any(ContainsAwait)).ToArray();
        var (afterAwaitIn, _) = FlowAwaitState(graph, hasAwait, startsAfterAwait);

        for (var i = 0; i < blocks.Length; i++)
        {
            var afterAwait = afterAwaitIn[i];
            foreach (var statement in Operations(blocks[i]))
            {
                AnalyzeStatement(scope, statement, afterAwait, aliases, depth, findings);
                afterAwait |= ContainsAwait(statement);
            }
        }
    }

    private void AnalyzeStatement(Scope scope, IOperation statement, bool afterAwait, Aliases aliases, int depth, List<Finding> findings)
    {
        var awaits = statement.DescendantsAndSelf().OfType<IAwaitOperation>().Select(a => a.Syntax.Span.End).ToList();
        bool AfterAwait(IOperation operation) => afterAwait || awaits.Any(end => end <= operation.Syntax.SpanStart);
        var reportedUse = false;

        foreach (var operation in statement.DescendantsAndSelf())
        {
            switch (operation)
            {
                case IInvocationOperation invocation:
                    AnalyzeCall(scope, invocation, invocation.TargetMethod, invocation.Instance, invocation.Arguments, AfterAwait(invocation), aliases, depth, findings, ref reportedUse);
                    break;

                case IObjectCreationOperation creation when creation.Constructor is not null:
                    AnalyzeCall(scope, creation, creation.Constructor, null, creation.Arguments, AfterAwait(creation), aliases, depth, findings, ref reportedUse);
                    break;

                case ISimpleAssignmentOperation assignment when aliases.IsRouter(assignment.Value) && Describe(assignment.Target) is { } place:
                    findings.Add(new Finding(RouteDiagnostics.RouterEscapes, assignment.Syntax.GetLocation(), $"it is stored in {place}"));
                    break;

                case IFlowAnonymousFunctionOperation lambda:
                    var lambdaGraph = scope.Graph.GetAnonymousFunctionControlFlowGraph(lambda, cancellationToken);
                    if (aliases.IsCapturedBy(lambdaGraph))
                    {
                        Dispose(scope, lambda, new Scope(lambdaGraph, scope), AfterAwait, aliases, depth, findings);
                    }

                    break;

                case IMethodReferenceOperation { Method.MethodKind: MethodKind.LocalFunction } reference
                    when scope.LocalFunctionGraph(reference.Method, cancellationToken) is { } localGraph && aliases.IsCapturedBy(localGraph.Graph):
                    Dispose(scope, reference, localGraph, AfterAwait, aliases, depth, findings);
                    break;
            }
        }
    }

    private void AnalyzeCall(
        Scope scope,
        IOperation call,
        IMethodSymbol method,
        IOperation? instance,
        IEnumerable<IArgumentOperation> arguments,
        bool afterAwait,
        Aliases aliases,
        int depth,
        List<Finding> findings,
        ref bool reportedUse)
    {
        var routerArguments = arguments.Where(a => a.Parameter is not null && aliases.IsRouter(a.Value)).ToList();
        var usesRouter = routerArguments.Count > 0 || (instance is not null && aliases.IsRouter(instance));

        // A local function that captures the router runs here: its body is analysed as if inlined at the call.
        if (method.MethodKind == MethodKind.LocalFunction
            && scope.LocalFunctionGraph(method, cancellationToken) is { } local
            && aliases.IsCapturedBy(local.Graph)
            && scope.Enter(method, afterAwait))
        {
            AnalyzeGraph(local, aliases.Symbols, afterAwait, depth, findings);
        }

        if (!usesRouter)
        {
            return;
        }

        if (afterAwait)
        {
            if (!reportedUse)
            {
                findings.Add(new Finding(RouteDiagnostics.RouteAfterAwait, call.Syntax.GetLocation(), string.Empty));
                reportedUse = true;
            }

            return;
        }

        foreach (var argument in routerArguments)
        {
            if (instance is not null && CollectionAdders.Contains(method.Name) && !aliases.IsRouter(instance))
            {
                findings.Add(new Finding(RouteDiagnostics.RouterEscapes, call.Syntax.GetLocation(), $"it is added to a collection by {method.ContainingType.Name}.{method.Name}"));
                continue;
            }

            var summary = Summarize(scope, method, argument.Parameter!.Ordinal, depth);
            var name = method.MethodKind == MethodKind.Constructor ? $"the constructor of {method.ContainingType.Name}" : method.Name;
            if (summary.UsesAfterAwait)
            {
                findings.Add(new Finding(RouteDiagnostics.RouteAfterAwait, call.Syntax.GetLocation(), $" in {name}, which it calls"));
            }

            if (summary.Escape is { } escape)
            {
                findings.Add(new Finding(RouteDiagnostics.RouterEscapes, call.Syntax.GetLocation(), $"{name} receives it and {escape}"));
            }
        }
    }

    /// <summary>Decides what happens to a lambda or local function that captures the router.</summary>
    private void Dispose(Scope scope, IOperation function, Scope body, Func<IOperation, bool> afterAwait, Aliases aliases, int depth, List<Finding> findings)
    {
        var holder = function.Parent is IDelegateCreationOperation creation ? creation : function;
        var location = function.Syntax.GetLocation();
        switch (holder.Parent)
        {
            case IArgumentOperation { Parent: IInvocationOperation invocation } argument
                when !symbols.IsDeferring(invocation.TargetMethod, argument.Parameter):
                // A callback of an ordinary method (List.ForEach, LINQ, a helper) runs during the call.
                AnalyzeGraph(body, aliases.Symbols, afterAwait(invocation), depth, findings);
                break;

            case IArgumentOperation { Parent: IInvocationOperation invocation }:
                findings.Add(new Finding(RouteDiagnostics.RouterEscapes, location,
                    $"it is captured by a callback passed to {invocation.TargetMethod.ContainingType.Name}.{invocation.TargetMethod.Name}, which may run after InitAsync returns"));
                break;

            case IArgumentOperation { Parent: IObjectCreationOperation objectCreation }:
                findings.Add(new Finding(RouteDiagnostics.RouterEscapes, location,
                    $"it is captured by a callback passed to new {objectCreation.Type?.Name}, which may run after InitAsync returns"));
                break;

            case IEventAssignmentOperation:
                findings.Add(new Finding(RouteDiagnostics.RouterEscapes, location, "it is captured by an event handler, which may run after InitAsync returns"));
                break;

            case ISimpleAssignmentOperation { Target: ILocalReferenceOperation local } when InvocationsOnly(scope.Graph, local.Local) is { } calls:
                // A delegate kept in a local and only invoked: it runs where it is invoked.
                AnalyzeGraph(body, aliases.Symbols, calls.Any(afterAwait), depth, findings);
                break;

            case ISimpleAssignmentOperation assignment:
                findings.Add(new Finding(RouteDiagnostics.RouterEscapes, location, $"it is captured by a delegate stored in {Describe(assignment.Target) ?? "a variable"}"));
                break;

            default:
                findings.Add(new Finding(RouteDiagnostics.RouterEscapes, location, "it is captured by a delegate that may run after InitAsync returns"));
                break;
        }
    }

    /// <summary>The invocations of a delegate local, or null when it is used any other way (passed, stored, returned).</summary>
    private static List<IOperation>? InvocationsOnly(ControlFlowGraph graph, ILocalSymbol local)
    {
        var calls = new List<IOperation>();
        foreach (var reference in graph.Blocks.SelectMany(Operations).SelectMany(o => o.DescendantsAndSelf()).OfType<ILocalReferenceOperation>())
        {
            if (!SymbolEqualityComparer.Default.Equals(reference.Local, local)
                || reference.Parent is ISimpleAssignmentOperation { Target: var target } && ReferenceEquals(target, reference))
            {
                continue;
            }

            if (reference.Parent is IInvocationOperation { TargetMethod.Name: "Invoke" } invocation && ReferenceEquals(invocation.Instance, reference))
            {
                calls.Add(invocation);
            }
            else
            {
                return null;
            }
        }

        return calls;
    }

    /// <summary>What a method of this compilation does with the router it receives as parameter <paramref name="ordinal"/>.</summary>
    private HelperSummary Summarize(Scope scope, IMethodSymbol method, int ordinal, int depth)
    {
        var key = (method.OriginalDefinition, ordinal);
        if (_helpers.TryGetValue(key, out var known))
        {
            return known;
        }

        if (depth >= MaxHelperDepth || ordinal >= method.Parameters.Length)
        {
            return HelperSummary.Accepted; // Too deep to follow: accepted, like a method outside the compilation.
        }

        if (PrimaryConstructorEscape(method, ordinal) is { } primaryEscape)
        {
            return _helpers[key] = new HelperSummary(false, primaryEscape);
        }

        var graph = method.MethodKind == MethodKind.LocalFunction ? scope.LocalFunctionGraph(method, cancellationToken) : SourceGraph(method);
        if (graph is null)
        {
            return HelperSummary.Accepted; // Outside the compilation: passing the router before the first await is fine.
        }

        _helpers[key] = HelperSummary.Accepted; // Recursion guard.
        var findings = new List<Finding>();
        AnalyzeGraph(graph, [method.Parameters[ordinal]], startsAfterAwait: false, depth + 1, findings);
        var summary = new HelperSummary(
            findings.Any(f => f.Descriptor == RouteDiagnostics.RouteAfterAwait),
            findings.FirstOrDefault(f => f.Descriptor == RouteDiagnostics.RouterEscapes).Detail);
        _helpers[key] = summary;
        return summary;
    }

#pragma warning disable RS1030 // Following the router into a helper's body needs that body's semantic model.
    private Scope? SourceGraph(IMethodSymbol method)
    {
        var syntax = method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken);
        if (syntax is null || !compilation.ContainsSyntaxTree(syntax.SyntaxTree))
        {
            return null;
        }

        var operation = compilation.GetSemanticModel(syntax.SyntaxTree).GetOperation(syntax, cancellationToken);
        return operation switch
        {
            IMethodBodyOperation body => new Scope(ControlFlowGraph.Create(body, cancellationToken), null),
            IConstructorBodyOperation body => new Scope(ControlFlowGraph.Create(body, cancellationToken), null),
            _ => null,
        };
    }

    /// <summary>
    /// What a primary constructor does with the router: a parameter read by a member body or kept by a
    /// field or property initializer outlives the call; one only read by initializers does not.
    /// </summary>
    private string? PrimaryConstructorEscape(IMethodSymbol method, int ordinal)
    {
        if (method.MethodKind != MethodKind.Constructor
            || method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is not TypeDeclarationSyntax type
            || !compilation.ContainsSyntaxTree(type.SyntaxTree))
        {
            return null;
        }

        var parameter = method.Parameters[ordinal];
        var model = compilation.GetSemanticModel(type.SyntaxTree);
        foreach (var name in type.DescendantNodes().OfType<IdentifierNameSyntax>().Where(n => n.Identifier.ValueText == parameter.Name))
        {
            if (!SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(name, cancellationToken).Symbol, parameter))
            {
                continue;
            }

            var member = name.FirstAncestorOrSelf<MemberDeclarationSyntax>();
            var initializer = name.FirstAncestorOrSelf<EqualsValueClauseSyntax>();
            if (member is BaseTypeDeclarationSyntax || name.FirstAncestorOrSelf<PrimaryConstructorBaseTypeSyntax>() is not null)
            {
                continue; // Passed on to the base constructor: followed no further.
            }

            if (initializer is not null && member is PropertyDeclarationSyntax or FieldDeclarationSyntax)
            {
                if (new Aliases(symbols, [parameter]).IsRouter(model.GetOperation(initializer.Value, cancellationToken)))
                {
                    return $"stores it in {(member is PropertyDeclarationSyntax property ? "the property '" + property.Identifier.ValueText + "'" : "a field")} of {method.ContainingType.Name}";
                }

                continue;
            }

            return $"{method.ContainingType.Name} captures it for later use";
        }

        return null;
    }
#pragma warning restore RS1030

    /// <summary>For each block, whether an await may have run before it starts.</summary>
    private static (bool[] In, bool[] Out) FlowAwaitState(ControlFlowGraph graph, bool[] hasAwait, bool startsAfterAwait)
    {
        var blocks = graph.Blocks;
        var afterIn = new bool[blocks.Length];
        var afterOut = new bool[blocks.Length];
        bool RegionAwaits(ControlFlowRegion region)
        {
            for (var b = region.FirstBlockOrdinal; b <= region.LastBlockOrdinal; b++)
            {
                if (hasAwait[b])
                {
                    return true;
                }
            }

            return false;
        }

        for (var changed = true; changed;)
        {
            changed = false;
            for (var i = 0; i < blocks.Length; i++)
            {
                var block = blocks[i];
                var state = i == 0 && startsAfterAwait;
                foreach (var branch in block.Predecessors)
                {
                    state |= afterOut[branch.Source.Ordinal] || branch.FinallyRegions.Any(RegionAwaits);
                }

                // Catch and finally regions are entered from anywhere in their try region.
                if (TryRegionOfHandlerStartingAt(block) is { } tryRegion)
                {
                    for (var t = tryRegion.FirstBlockOrdinal; t <= tryRegion.LastBlockOrdinal; t++)
                    {
                        state |= afterIn[t] || afterOut[t];
                    }
                }

                var output = state || hasAwait[i];
                if (state != afterIn[i] || output != afterOut[i])
                {
                    afterIn[i] = state;
                    afterOut[i] = output;
                    changed = true;
                }
            }
        }

        return (afterIn, afterOut);
    }

    private static ControlFlowRegion? TryRegionOfHandlerStartingAt(BasicBlock block)
    {
        for (var region = block.EnclosingRegion; region is not null && region.FirstBlockOrdinal == block.Ordinal; region = region.EnclosingRegion)
        {
            if (region.Kind is ControlFlowRegionKind.Catch or ControlFlowRegionKind.Finally or ControlFlowRegionKind.Filter or ControlFlowRegionKind.FilterAndHandler)
            {
                var outer = region.Kind == ControlFlowRegionKind.Catch && region.EnclosingRegion?.Kind == ControlFlowRegionKind.FilterAndHandler
                    ? region.EnclosingRegion.EnclosingRegion
                    : region.EnclosingRegion;
                return outer?.NestedRegions.FirstOrDefault(r => r.Kind == ControlFlowRegionKind.Try);
            }
        }

        return null;
    }

    private static IEnumerable<IOperation> Operations(BasicBlock block)
        => block.BranchValue is null ? block.Operations : block.Operations.Append(block.BranchValue);

    private static bool ContainsAwait(IOperation operation) => operation.DescendantsAndSelf().OfType<IAwaitOperation>().Any();

    private static string? Describe(IOperation target) => target switch
    {
        IFieldReferenceOperation field => (field.Field.IsStatic ? "the static field '" : "the field '") + field.Field.Name + "'",
        IPropertyReferenceOperation { Property.IsIndexer: true } => "an indexed collection",
        IPropertyReferenceOperation property => (property.Property.IsStatic ? "the static property '" : "the property '") + property.Property.Name + "'",
        IArrayElementReferenceOperation => "an array element",
        IEventReferenceOperation reference => "the event '" + reference.Event.Name + "'",
        ILocalReferenceOperation or IFlowCaptureReferenceOperation or IDiscardOperation => null,
        _ => "a location that outlives the call",
    };

    private readonly record struct HelperSummary(bool UsesAfterAwait, string? Escape)
    {
        public static readonly HelperSummary Accepted = new(false, null);
    }

    /// <summary>A control flow graph and the graph it is nested in (local functions are looked up outwards).</summary>
    private sealed class Scope(ControlFlowGraph graph, Scope? parent)
    {
        private readonly HashSet<(IMethodSymbol, bool)> _entered = new(new EnteredComparer());

        public ControlFlowGraph Graph { get; } = graph;

        public Scope? LocalFunctionGraph(IMethodSymbol localFunction, CancellationToken cancellationToken)
        {
            for (var scope = this; scope is not null; scope = scope.Parent)
            {
                if (scope.Graph.LocalFunctions.Contains(localFunction, SymbolEqualityComparer.Default))
                {
                    return new Scope(scope.Graph.GetLocalFunctionControlFlowGraph(localFunction, cancellationToken), scope);
                }
            }

            return null;
        }

        /// <summary>Guards against recursive local functions: each is inlined once per await state.</summary>
        public bool Enter(IMethodSymbol localFunction, bool afterAwait)
        {
            var root = this;
            while (root.Parent is not null)
            {
                root = root.Parent;
            }

            return root._entered.Add((localFunction, afterAwait));
        }

        private Scope? Parent { get; } = parent;

        private sealed class EnteredComparer : IEqualityComparer<(IMethodSymbol Method, bool AfterAwait)>
        {
            public bool Equals((IMethodSymbol Method, bool AfterAwait) x, (IMethodSymbol Method, bool AfterAwait) y)
                => x.AfterAwait == y.AfterAwait && SymbolEqualityComparer.Default.Equals(x.Method, y.Method);

            public int GetHashCode((IMethodSymbol Method, bool AfterAwait) obj) => SymbolEqualityComparer.Default.GetHashCode(obj.Method) ^ obj.AfterAwait.GetHashCode();
        }
    }

    private sealed class SymbolOrdinalComparer : IEqualityComparer<(ISymbol Method, int Ordinal)>
    {
        public bool Equals((ISymbol Method, int Ordinal) x, (ISymbol Method, int Ordinal) y)
            => x.Ordinal == y.Ordinal && SymbolEqualityComparer.Default.Equals(x.Method, y.Method);

        public int GetHashCode((ISymbol Method, int Ordinal) obj) => SymbolEqualityComparer.Default.GetHashCode(obj.Method) ^ obj.Ordinal;
    }
}

/// <summary>The symbols and flow captures that hold the router in one graph.</summary>
internal sealed class Aliases(KnownSymbols symbols, IEnumerable<ISymbol> roots)
{
    private readonly HashSet<ISymbol> _symbols = new(roots, SymbolEqualityComparer.Default);
    private readonly HashSet<CaptureId> _captures = [];

    public IReadOnlyCollection<ISymbol> Symbols => _symbols;

    /// <summary>Finds every local and flow capture assigned a router value, until nothing changes.</summary>
    public void Discover(ControlFlowGraph graph)
    {
        var operations = graph.Blocks
            .SelectMany(b => b.BranchValue is null ? b.Operations : b.Operations.Append(b.BranchValue))
            .SelectMany(o => o.DescendantsAndSelf())
            .ToList();
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var operation in operations)
            {
                switch (operation)
                {
                    case ISimpleAssignmentOperation { Target: ILocalReferenceOperation local } assignment when IsRouter(assignment.Value):
                        changed |= _symbols.Add(local.Local);
                        break;
                    case IFlowCaptureOperation capture when IsRouter(capture.Value):
                        changed |= _captures.Add(capture.Id);
                        break;
                }
            }
        }
    }

    /// <summary>Whether the value is the router or something made from it that can still register routes.</summary>
    public bool IsRouter(IOperation? operation)
    {
        while (operation is IConversionOperation conversion)
        {
            operation = conversion.Operand;
        }

        return operation switch
        {
            IParameterReferenceOperation parameter => _symbols.Contains(parameter.Parameter),
            ILocalReferenceOperation local => _symbols.Contains(local.Local),
            IFlowCaptureReferenceOperation capture => _captures.Contains(capture.Id),
            IInvocationOperation invocation => symbols.IsRouterType(invocation.Type)
                                               && (IsRouter(invocation.Instance) || invocation.Arguments.Any(a => IsRouter(a.Value))),
            _ => false,
        };
    }

    /// <summary>Whether a nested graph (lambda or local function) refers to the router through a captured symbol.</summary>
    public bool IsCapturedBy(ControlFlowGraph graph)
    {
        foreach (var operation in graph.Blocks.SelectMany(b => b.BranchValue is null ? b.Operations : b.Operations.Append(b.BranchValue)).SelectMany(o => o.DescendantsAndSelf()))
        {
            switch (operation)
            {
                case IParameterReferenceOperation parameter when _symbols.Contains(parameter.Parameter):
                case ILocalReferenceOperation local when _symbols.Contains(local.Local):
                    return true;
                case IFlowAnonymousFunctionOperation nested when IsCapturedBy(graph.GetAnonymousFunctionControlFlowGraph(nested)):
                    return true;
            }
        }

        foreach (var localFunction in graph.LocalFunctions)
        {
            if (IsCapturedBy(graph.GetLocalFunctionControlFlowGraph(localFunction)))
            {
                return true;
            }
        }

        return false;
    }
}
