import { describe, expect, it } from 'vitest';
import { controlLineWarnings, isMeshHeaderRow, MESH_COLUMNS, MESH_COLUMNS_WITH_GP_REGISTRATION, meshColumnsFor, parseControlLine, recordCountWarning } from '../../../src/csv/input/mesh-layout.js';

describe('PDS MESH request layout', () => {
  it('reads the control line: reference, workflow, timestamp, record count', () => {
    expect(parseControlLine(['MPTREQ_20210802171059', 'SPINE_PDS_MESH_V1', '20210802171059', '2'])).toEqual({
      requestReference: 'MPTREQ_20210802171059',
      workflowId: 'SPINE_PDS_MESH_V1',
      timestamp: '20210802171059',
      recordCount: 2,
    });
  });

  it('does not take an ordinary header or data row for a control line', () => {
    expect(parseControlLine(['NHS Number', 'DOB'])).toBeNull();
    expect(parseControlLine(['MPTREQ_2021', 'x'])).toBeNull();
  });

  it('warns about an unexpected workflow id or a missing count', () => {
    expect(controlLineWarnings({ requestReference: 'MPTREQ_20210802171059', workflowId: 'OTHER', timestamp: '' })).toEqual([
      "the MESH control line's workflow id is not SPINE_PDS_MESH_V1",
      'the MESH control line does not give a whole-number record count',
    ]);
  });

  it('compares the announced record count with the rows read', () => {
    const control = { requestReference: 'MPTREQ_20210802171059', workflowId: 'SPINE_PDS_MESH_V1', timestamp: '', recordCount: 2 };
    expect(recordCountWarning(control, 2)).toBeNull();
    expect(recordCountWarning(control, 3)).toBe('the MESH control line announces 2 data records but the file has 3');
  });

  it('knows both published column lists and picks one by row width', () => {
    expect(MESH_COLUMNS).toHaveLength(23);
    expect(MESH_COLUMNS_WITH_GP_REGISTRATION).toHaveLength(24);
    expect(MESH_COLUMNS_WITH_GP_REGISTRATION[16]).toBe('GP_REGISTRATION_DATE');
    expect(meshColumnsFor(24)).toBe(MESH_COLUMNS_WITH_GP_REGISTRATION);
    expect(meshColumnsFor(23)).toBe(MESH_COLUMNS);
  });

  it('recognises a MESH column-name row however it is punctuated', () => {
    expect(isMeshHeaderRow(MESH_COLUMNS)).toBe(true);
    expect(isMeshHeaderRow(['UNIQUE_REFERENCE', 'NHS NO', 'family_name', 'given_name', 'other given name', 'gender', 'date_of_birth', 'postcode'])).toBe(true);
    expect(isMeshHeaderRow(['NHS_NO', 'FAMILY_NAME'])).toBe(false);
  });
});
