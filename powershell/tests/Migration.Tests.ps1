#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.5.0' }
# Every cmdlet against the real binary, in the order of a migration, on a copy of the sample
# tenant (examples/sample-tenant). Nothing here reaches Microsoft Graph: the Graph steps run as
# dry runs, and the one real run uses a certificate, which this build refuses before any call.

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'Common.ps1')
    $script:HasSample = Test-Path -LiteralPath $script:SampleDir
}

BeforeAll {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'Common.ps1')
    Import-Module -Name $script:ModuleManifest -Force
    $script:Dir = Join-Path -Path $TestDrive -ChildPath 'migration'
    $null = New-Item -ItemType Directory -Path $script:Dir -Force
    $script:Sample = Copy-SampleTenant -Destination $script:Dir
    $script:Ws = Join-Path -Path $script:Dir -ChildPath 'work'
    Push-Location -LiteralPath $script:Dir
}

AfterAll {
    Pop-Location
    Remove-Module -Name Bms2Intune -ErrorAction SilentlyContinue
}

Describe 'A migration on the sample tenant' -Skip:(-not $HasSample) {

    It 'Get-BmsMigrationStatus reports an empty workspace as missing' {
        $err = $null
        try { Get-BmsMigrationStatus -Workspace $script:Ws } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'workspace.missing*'
    }

    It 'Import-BmsTenantData imports every sample file with consistent counts' {
        $files = @(Get-ChildItem -LiteralPath (Join-Path -Path $script:Dir -ChildPath 'sample') -File | Import-BmsTenantData -Workspace $script:Ws)
        $files.Count | Should -BeGreaterOrEqual $script:Sample.Count
        foreach ($f in $files) {
            $f.PSObject.TypeNames | Should -Contain 'Bms2Intune.ImportFile'
            $f.Kind | Should -Not -BeNullOrEmpty
            $f.RowsRead | Should -Be ($f.Kept + $f.Rejected) -Because "$($f.Path): rows read = kept + rejected"
        }
        ($files | Where-Object Kind -eq 'policies') | Should -Not -BeNullOrEmpty
    }

    It 'Import-BmsTenantData accepts rows from the pipeline and deletes its temporary file' {
        $users = Join-Path -Path $script:Dir -ChildPath 'sample/users.csv'
        if (-not (Test-Path -LiteralPath $users)) { Set-ItResult -Skipped -Because 'the sample has no users.csv' }
        $before = @(Get-ChildItem -LiteralPath ([System.IO.Path]::GetTempPath()) -Filter 'bms2intune-rows-*.csv').Count
        $out = @(Import-Csv -LiteralPath $users | Select-Object -First 5 | Import-BmsTenantData -As users -Add -Workspace $script:Ws)
        $out[0].Path | Should -Be '(pipeline input)'
        $out[0].RowsRead | Should -Be 5
        @(Get-ChildItem -LiteralPath ([System.IO.Path]::GetTempPath()) -Filter 'bms2intune-rows-*.csv').Count | Should -Be $before
    }

    It 'Import-BmsTenantData -Strict stops on a rejected row, naming file, row and column' {
        $bad = Join-Path -Path $script:Dir -ChildPath 'users-bad.csv'
        Copy-Item -LiteralPath (Join-Path -Path $script:ContractDir -ChildPath 'data/users-bad.csv') -Destination $bad
        $badWs = Join-Path -Path $script:Dir -ChildPath 'strict'
        $err = $null
        try { Import-BmsTenantData -Path $bad -As users -Strict -Workspace $badWs } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'import.strict*'
        $err.CategoryInfo.Category | Should -Be 'InvalidData'
        $err.TargetObject.PSObject.TypeNames | Should -Contain 'Bms2Intune.ErrorTarget'
        $err.TargetObject.File | Should -Be $bad
        $err.TargetObject.Row | Should -Be 3
        $err.TargetObject.Column | Should -Be 'User principal name'
    }

    It 'Export-BmsDevicePolicy writes a bundle the binary imports' {
        $env:BMS2INTUNE_TEST_BUNDLE = Join-Path -Path $script:ContractDir -ChildPath 'data/policies.bundle.json'
        foreach ($kind in @('DeviceConditionalAccessPolicy', 'DeviceConditionalAccessRule', 'DeviceConfigurationPolicy', 'DeviceConfigurationRule', 'DeviceTenantRule')) {
            $body = [scriptblock]::Create("(Get-Content -LiteralPath `$env:BMS2INTUNE_TEST_BUNDLE -Raw -Encoding UTF8 | ConvertFrom-Json).$kind")
            Set-Item -Path "Function:global:Get-$kind" -Value $body
        }
        try {
            $export = Export-BmsDevicePolicy -Path (Join-Path -Path $script:Dir -ChildPath 'exported.json')
            $export.ConditionalAccessPolicies | Should -Be 1
            $export.TenantRules | Should -Be 1
            $imported = @($export | Import-BmsTenantData -As policies -Workspace (Join-Path -Path $script:Dir -ChildPath 'policies-only'))
            $imported[0].Kind | Should -Be 'policies'
            { Export-BmsDevicePolicy -Path $export.Path } | Should -Throw -ErrorId 'module.file_exists*'
        } finally {
            foreach ($kind in @('DeviceConditionalAccessPolicy', 'DeviceConditionalAccessRule', 'DeviceConfigurationPolicy', 'DeviceConfigurationRule', 'DeviceTenantRule')) {
                Remove-Item -LiteralPath "Function:\Get-$kind" -ErrorAction SilentlyContinue
            }
        }
    }

    It 'Export-BmsDevicePolicy says how to connect when there is no Security & Compliance session' {
        { Export-BmsDevicePolicy -Path (Join-Path -Path $script:Dir -ChildPath 'x.json') } | Should -Throw -ErrorId 'module.compliance_not_connected*'
    }

    It 'Test-BmsMigrationReadiness outputs typed findings and a summary' {
        $findings = @(Test-BmsMigrationReadiness -Workspace $script:Ws)
        $findings.Count | Should -BeGreaterThan 0
        foreach ($f in $findings) {
            $f.PSObject.TypeNames | Should -Contain 'Bms2Intune.Finding'
            $f.Severity | Should -BeIn @('blocker', 'warning', 'info')
            $f.Code | Should -Match '^[a-z]+\.[a-z_.]+$'
        }
        $summary = Test-BmsMigrationReadiness -Workspace $script:Ws -Summary
        $summary.PSObject.TypeNames | Should -Contain 'Bms2Intune.ReadinessSummary'
        ($summary.Blocker + $summary.Warning + $summary.Info) | Should -Be $findings.Count
        @(Test-BmsMigrationReadiness -Workspace $script:Ws -Severity info | Where-Object Severity -ne 'info').Count | Should -Be 0
    }

    It 'log events of the binary become warnings, and a stopped pipeline leaves the process usable' {
        $findings = Test-BmsMigrationReadiness -Workspace $script:Ws -WarningVariable logged -WarningAction SilentlyContinue
        $summary = Test-BmsMigrationReadiness -Workspace $script:Ws -Summary -WarningAction SilentlyContinue
        if ($summary.Blocker -gt 0) { ($logged | Out-String) | Should -Match '\[readiness\.blockers\]' }
        $before = InModuleScope Bms2Intune { $script:BmsRpc.Process.Id }
        $first = Test-BmsMigrationReadiness -Workspace $script:Ws -WarningAction SilentlyContinue | Select-Object -First 1
        $first.Code | Should -Be $findings[0].Code
        $null = Get-BmsMigrationStatus -Workspace $script:Ws
        (InModuleScope Bms2Intune { $script:BmsRpc.Process.Id }) | Should -Be $before
    }

    It 'Test-BmsMigrationReadiness -FailOn stops a script when the severity is present' {
        $summary = Test-BmsMigrationReadiness -Workspace $script:Ws -Summary
        $err = $null
        try { $null = Test-BmsMigrationReadiness -Workspace $script:Ws -FailOn warning } catch { $err = $_ }
        if (($summary.Blocker + $summary.Warning) -gt 0) {
            $err.FullyQualifiedErrorId | Should -BeLike 'readiness.fail_on*'
        } else {
            $err | Should -BeNullOrEmpty
        }
    }

    It 'ConvertTo-BmsIntunePolicy lists the Intune objects with their files' {
        $objects = @(ConvertTo-BmsIntunePolicy -Workspace $script:Ws -AndroidTarget work-profile)
        $objects.Count | Should -BeGreaterThan 0
        foreach ($o in $objects) {
            $o.PSObject.TypeNames | Should -Contain 'Bms2Intune.IntuneObject'
            $o.OdataType | Should -BeLike '#microsoft.graph.*'
            $o.File | Should -Exist
        }
    }

    It 'New-BmsWavePlan plans the pilot group as wave 0' {
        $waves = @(New-BmsWavePlan -Workspace $script:Ws -PilotGroup 'BMS Pilot' -WaveSize 50 -WarningAction SilentlyContinue)
        $waves.Count | Should -BeGreaterThan 1
        $waves[0].PSObject.TypeNames | Should -Contain 'Bms2Intune.Wave'
        $waves[0].Number | Should -Be 0
        $waves[0].Pilot | Should -BeTrue
        foreach ($w in $waves | Where-Object Number -gt 0) { $w.UserCount | Should -BeLessOrEqual 50 }
        ($waves | Measure-Object -Property UserCount -Sum).Sum | Should -BeGreaterThan 0
    }

    It 'New-BmsWavePlan -WhatIf writes nothing' {
        $ws2 = Join-Path -Path $script:Dir -ChildPath 'whatif'
        $null = New-BmsWavePlan -Workspace $ws2 -PilotGroup 'BMS Pilot' -WhatIf
        Join-Path -Path $ws2 -ChildPath 'plan.json' | Should -Not -Exist
    }

    It 'Export-BmsWavePlan copies the plan as <Ext>' -ForEach @(@{ Ext = 'xlsx' }, @{ Ext = 'csv' }, @{ Ext = 'json' }) {
        $target = Join-Path -Path $script:Dir -ChildPath "waves.$Ext"
        $file = Export-BmsWavePlan -Workspace $script:Ws -Path $target
        $file.FullName | Should -Be $target
        $file.Length | Should -BeGreaterThan 0
        { Export-BmsWavePlan -Workspace $script:Ws -Path $target } | Should -Throw -ErrorId 'module.file_exists*'
        { Export-BmsWavePlan -Workspace $script:Ws -Path $target -Force } | Should -Not -Throw
    }

    It 'Get-BmsMigrationStatus shows the steps that ran' {
        $status = @(Get-BmsMigrationStatus -Workspace $script:Ws)
        ($status | Where-Object Name -eq 'tenant').Present | Should -BeTrue
        ($status | Where-Object Name -eq 'readiness').Present | Should -BeTrue
        ($status | Where-Object Name -eq 'plan').Present | Should -BeTrue
        $status[0].PSObject.TypeNames | Should -Contain 'Bms2Intune.Artifact'
    }

    It 'Invoke-BmsMigrationStep -WhatIf lists the policies it would create, without Graph' {
        $actions = @(Invoke-BmsMigrationStep -Workspace $script:Ws -Step policies -WhatIf -WarningAction SilentlyContinue)
        $actions.Count | Should -BeGreaterThan 0
        foreach ($a in $actions) {
            $a.PSObject.TypeNames | Should -Contain 'Bms2Intune.MigrationAction'
            $a.DryRun | Should -BeTrue
            $a.Outcome | Should -Be 'planned'
            $a.Method | Should -Be 'POST'
        }
    }

    It 'Invoke-BmsMigrationWave -WhatIf is the binary''s dry run of the pilot wave' {
        $actions = @(Invoke-BmsMigrationWave -Workspace $script:Ws -Wave 0 -Sku EMS -WhatIf -WarningAction SilentlyContinue)
        $actions.Count | Should -BeGreaterThan 0
        ($actions | Where-Object Outcome -ne 'planned') | Should -BeNullOrEmpty
        $actions[0].Sku | Should -Be 'EMS'
        @(Get-Content -LiteralPath (Join-Path -Path $script:Ws -ChildPath 'journal.jsonl') -ErrorAction SilentlyContinue | Where-Object { $_ -match '"state":"succeeded"' }).Count | Should -Be 0
    }

    It 'Invoke-BmsMigrationWave -WhatIf asks the binary for a dry run, never for the real thing' {
        Mock -ModuleName Bms2Intune Invoke-BmsRpc { [pscustomobject]@{ step = 'wave'; wave = 1; dry_run = $true; planned = 1; done = 0; skipped = 0; failed = 0; requests = 0; notes = @(); journal = 'journal.jsonl'; operations = @([pscustomobject]@{ op = 'wave1:group'; method = 'POST'; path = '/v1.0/groups'; summary = 'create group'; outcome = 'planned' }) } }
        $actions = @(Invoke-BmsMigrationWave -Workspace $script:Ws -Wave 1 -WhatIf)
        $actions[0].DryRun | Should -BeTrue
        Should -Invoke -ModuleName Bms2Intune Invoke-BmsRpc -ParameterFilter { $Command -eq 'apply' -and $Params['dry_run'] -eq $true -and $Params['wave'] -eq 1 -and -not $Params.Contains('auth') } -Times 1 -Exactly
        Should -Invoke -ModuleName Bms2Intune Invoke-BmsRpc -ParameterFilter { $Params['dry_run'] -eq $false } -Times 0 -Exactly
    }

    It 'Connect-BmsGraph keeps the credentials for real runs; a certificate is refused by this build' {
        $cert = Join-Path -Path $script:Dir -ChildPath 'app.pfx'
        Copy-Item -LiteralPath (Join-Path -Path $script:ContractDir -ChildPath 'data/bms2intune.pfx') -Destination $cert
        $connection = Connect-BmsGraph -TenantId contoso.onmicrosoft.com -ClientId 11111111-2222-3333-4444-555555555555 -CertificatePath $cert
        $connection.PSObject.TypeNames | Should -Contain 'Bms2Intune.GraphConnection'
        $connection.Method | Should -Be 'certificate'
        $err = $null
        try { Invoke-BmsMigrationStep -Workspace $script:Ws -Step policies -Confirm:$false } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'graph.auth.unsupported*'
        InModuleScope Bms2Intune { $script:BmsGraphAuth = $null }
    }

    It 'New-BmsMigrationReport writes the HTML report and lists its files' {
        $out = Join-Path -Path $script:Dir -ChildPath 'report'
        $files = @(New-BmsMigrationReport -Workspace $script:Ws -OutputPath $out -WarningAction SilentlyContinue)
        ($files | Where-Object Extension -eq '.html') | Should -Not -BeNullOrEmpty
        foreach ($f in $files) { $f.DirectoryName | Should -Be $out }
    }
}
